/**
 * Writes a version 2 packfile (gitformat-pack(5)) of whole objects, streamed: one object is
 * read and deflated at a time, so memory stays at the size of the largest object. No deltas:
 * snapshot pushes mostly add new part files, and the receiving side may repack.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { ObjectReader, ObjectToSend } from './object-walk.js';
import type { ObjectType } from './objects.js';

const deflateAsync = promisify(zlib.deflate);
const TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/** The type-and-size header of one packed object: 3 bits of type, size in a little-endian varint. */
function entryHeader(type: ObjectType, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (TYPE_CODE[type] << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

/**
 * Yields the pack's bytes for `objects`; `onObject` is called after each one with the bytes
 * produced so far.
 */
export async function* writePack(source: ObjectReader, objects: ObjectToSend[], onObject?: (done: number, bytes: number) => void): AsyncGenerator<Buffer> {
  const hash = createHash('sha1');
  let bytes = 0;
  const emit = (b: Buffer): Buffer => {
    hash.update(b);
    bytes += b.length;
    return b;
  };
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  yield emit(header);
  let done = 0;
  for (const { oid } of objects) {
    const { type, content } = await source.readObject(oid);
    yield emit(entryHeader(type, content.length));
    yield emit(await deflateAsync(content, { level: 1 }));
    onObject?.(++done, bytes);
  }
  yield hash.digest();
}
