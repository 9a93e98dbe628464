/**
 * git's pkt-line framing (gitprotocol-common(5)): each line is prefixed by its length as four
 * hex digits including the prefix; `0000` is a flush packet.
 */
export const FLUSH = Buffer.from('0000', 'latin1');

export function pktLine(text: string | Buffer): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'), body]);
}

/** Splits a buffer of pkt-lines; a flush packet is returned as null. Stops at malformed data. */
export function parsePktLines(buf: Buffer): (Buffer | null)[] {
  const out: (Buffer | null)[] = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const len = parseInt(buf.toString('latin1', i, i + 4), 16);
    if (Number.isNaN(len)) break;
    if (len === 0) {
      out.push(null);
      i += 4;
      continue;
    }
    if (len < 4 || i + len > buf.length) break;
    out.push(buf.subarray(i + 4, i + len));
    i += len;
  }
  return out;
}
