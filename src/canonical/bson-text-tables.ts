// The lookup tables and buffer view the BSON -> text walker (bson-text-walker.ts) reads from.
export const MAX_INDENT = 256;

export const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'));

export const TWO_32 = 4294967296;

/**
 * Node's Buffer has had these slice decoders since 0.x; they skip the argument handling of
 * `toString(encoding, start, end)`, which is a measurable share of the cost for short strings.
 */
export type SliceBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
};

export const EMPTY = Buffer.alloc(0) as SliceBuffer;

export function toBuffer(bytes: Uint8Array): SliceBuffer {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b as SliceBuffer;
}
