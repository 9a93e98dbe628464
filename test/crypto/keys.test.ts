import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DbsnapKey, generateKey, parseKey } from '../../src/crypto/index.js';
import { caught, KEY_BASE64, KEY_HEX, key } from './fixtures.js';

describe('parseKey', () => {
  it('derives a stable public key id (pinned: existing repositories store it)', () => {
    expect(key.id).toBe('2c650f74b4f2ea4f');
    expect(key.source).toBe('test key');
  });

  it('accepts hex in either case and base64 (standard, URL-safe, unpadded), whitespace trimmed', () => {
    const forms = [
      `  ${KEY_HEX}\n`,
      KEY_HEX.toUpperCase(),
      KEY_BASE64,
      KEY_BASE64.replace(/=$/, ''),
      KEY_BASE64.replace(/\+/g, '-').replace(/\//g, '_'),
      Buffer.from(`${KEY_HEX}\n`),
    ];
    for (const form of forms) expect(parseKey(form, 'k').id).toBe(key.id);
  });

  it('rejects other formats with EKEY, naming the source and never the material', () => {
    const bad = [
      KEY_HEX.slice(0, 63),
      KEY_HEX + 'aa',
      'correct horse battery staple',
      '',
      Buffer.alloc(48, 7).toString('base64'),
      KEY_HEX.slice(0, 62) + 'zz',
    ];
    for (const material of bad) {
      const err = caught(() => parseKey(material, 'DBSNAP_KEY'));
      expect(err.code).toBe('EKEY');
      expect(err.message).toContain('DBSNAP_KEY');
      expect(err.message).toContain('64 hexadecimal characters or 44 base64 characters');
      if (material.length > 0) {
        expect(err.message).not.toContain(material);
        expect(JSON.stringify(err.data)).not.toContain(material);
        // Not even a recognisable fragment of it.
        expect(err.message).not.toContain(material.slice(0, 12));
      }
    }
  });

  it('rejects raw bytes of the wrong length in fromBytes', () => {
    expect(caught(() => DbsnapKey.fromBytes(new Uint8Array(16), 'raw')).code).toBe('EKEY');
  });
});

describe('DbsnapKey output', () => {
  const leaks = [KEY_HEX, KEY_BASE64.slice(0, 20), Buffer.from(KEY_HEX, 'hex').toString('latin1')];

  it('shows only the key id in inspect, toString, JSON and enumerable properties', () => {
    const outputs = [
      inspect(key),
      inspect(key, { showHidden: true, depth: Infinity }),
      inspect({ nested: { key } }),
      String(key),
      `${key}`,
      JSON.stringify({ key }),
      JSON.stringify(Object.entries(key)),
    ];
    for (const out of outputs) {
      for (const leak of leaks) expect(out).not.toContain(leak);
      expect(out).toContain(key.id);
    }
    expect(JSON.parse(JSON.stringify(key))).toEqual({ keyId: key.id });
    expect(Object.keys(key).sort()).toEqual(['id', 'source']);
  });
});

describe('generateKey', () => {
  it('returns 64 hex characters that parse, different each time', () => {
    const a = generateKey();
    const b = generateKey();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(parseKey(a, 'gen').id).not.toBe(parseKey(b, 'gen').id);
  });
});
