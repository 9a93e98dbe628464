import { describe, expect, it } from 'vitest';
import { createSha256, sha256Hex } from '../../src/crypto/index.js';
import { sha1Base64Url } from '../../src/crypto/hash.js';

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes strings as UTF-8, the same as their bytes', () => {
    expect(sha256Hex('é')).toBe(sha256Hex(new Uint8Array([0xc3, 0xa9])));
  });
});

describe('createSha256', () => {
  it('gives the same digest fed in chunks as in one call', () => {
    const h = createSha256();
    h.update('a').update(new Uint8Array([0x62])).update('c');
    expect(h.digestHex()).toBe(sha256Hex('abc'));
  });
});

describe('sha1Base64Url', () => {
  it('is the SHA-1 digest (FIPS 180-2 "abc" vector a9993e36...) in unpadded base64url', () => {
    expect(sha1Base64Url('abc')).toBe(Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex').toString('base64url'));
    expect(sha1Base64Url('abc')).toBe('qZk-NkcGgWq6PiVxeFDCbJzQ2J0');
  });
});
