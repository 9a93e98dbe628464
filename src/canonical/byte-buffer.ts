// Growing byte buffers that the writers append to: document text and BSON, part files, collection.json.

/**
 * `buf` if it holds `need` bytes, else a new buffer at least twice its size that holds its first
 * `used` bytes.
 */
export function withRoom<B extends Buffer>(buf: B, used: number, need: number): B {
  if (need <= buf.length) return buf;
  let size = Math.max(buf.length * 2, 256);
  while (size < need) size *= 2;
  const bigger = Buffer.allocUnsafeSlow(size);
  buf.copy(bigger, 0, 0, used);
  return bigger as B;
}

/** A reused buffer that one large value grew past this is dropped afterwards, not kept for good. */
export const KEEP_AT_MOST = 16 * 1024 * 1024;
