/**
 * Concatenated BSON documents (a mongodump `.bson` file, an archive block) -> one raw document per
 * item, each checked for a sane length and terminator, so a truncated or corrupt file fails at
 * the byte offset where it goes wrong instead of producing a wrong document.
 */

/** A structural error at `offset` bytes into the data. */
export class BsonStreamError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at byte offset ${offset}`);
  }
}

export const MAX_BSON_SIZE = 16 * 1024 * 1024 + 16 * 1024;

/** Checks that a document's declared length fits and it ends with its terminator; returns the length. */
export function documentLength(buf: Buffer, at: number): number {
  const remaining = buf.length - at;
  if (remaining < 4) throw new BsonStreamError(`truncated: ${remaining} byte${remaining === 1 ? '' : 's'} left where a document length was expected`, at);
  const len = buf.readInt32LE(at);
  if (len < 5 || len > MAX_BSON_SIZE) throw new BsonStreamError(`invalid document length ${len}`, at);
  if (len > remaining) throw new BsonStreamError(`truncated document: it declares ${len} bytes, ${remaining} remain`, at);
  if (buf[at + len - 1] !== 0) throw new BsonStreamError('document does not end with a 0x00 terminator', at + len - 1);
  return len;
}

/**
 * Splits `buf` into raw documents (views into `buf`, no copying).
 *
 * @example
 * for (const { doc, offset } of splitDocuments(readFileSync('dump/shop/users.bson'))) ...
 */
export function* splitDocuments(buf: Buffer, base = 0): Generator<{ doc: Buffer; offset: number }> {
  let at = 0;
  while (at < buf.length) {
    let len: number;
    try {
      len = documentLength(buf, at);
    } catch (err) {
      if (err instanceof BsonStreamError) throw new BsonStreamError(err.reason, err.offset + base);
      throw err;
    }
    yield { doc: buf.subarray(at, at + len), offset: base + at };
    at += len;
  }
}
