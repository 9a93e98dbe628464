/**
 * Raw BSON documents -> JSON text for other tools, read straight from the bytes (so key order,
 * every numeric type and the deprecated types come out exactly):
 *
 * - `canonical`: Extended JSON v2 canonical mode, what `mongoexport --jsonFormat=canonical` writes
 *   and mongoimport reads back to the same bytes.
 * - `plain`: the JSON a backup script writes with JSON.stringify: ObjectIds as 24-hex strings and
 *   dates as ISO strings (lossy: dbsnap import infers them back), Int32 as bare integers, doubles
 *   always with a fraction or an exponent (`24.0`) so they read back as doubles; every other type
 *   keeps its canonical wrapper (`{"$numberLong": "7"}`, `{"$numberDecimal": "1.50"}`).
 */
import { Decimal128 } from 'bson';
import { FormatError } from '../errors/index.js';

export type JsonFlavour = 'canonical' | 'plain';

const MIN_ISO_MS = -62167219200000; // 0000-01-01T00:00:00.000Z
const MAX_ISO_MS = 253402300799999;

/** A double as JSON number text that reads back as a double. */
function doubleNumberText(x: number): string {
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function canonicalDoubleText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0.0';
  return doubleNumberText(x);
}

class Writer {
  constructor(
    readonly b: Buffer,
    readonly flavour: JsonFlavour,
  ) {}

  cstring(at: number): { s: string; end: number } {
    const end = this.b.indexOf(0, at);
    return { s: this.b.toString('utf8', at, end), end: end + 1 };
  }

  document(at: number, isArray: boolean): string {
    const size = this.b.readInt32LE(at);
    const stop = at + size - 1;
    let i = at + 4;
    const parts: string[] = [];
    while (i < stop) {
      const type = this.b[i]!;
      const { s: key, end } = this.cstring(i + 1);
      const { text, next } = this.value(type, end);
      parts.push(isArray ? text : `${JSON.stringify(key)}:${text}`);
      i = next;
    }
    return isArray ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
  }

  string(at: number): { s: string; next: number } {
    const len = this.b.readInt32LE(at);
    return { s: this.b.toString('utf8', at + 4, at + 4 + len - 1), next: at + 4 + len };
  }

  value(type: number, at: number): { text: string; next: number } {
    const b = this.b;
    const plain = this.flavour === 'plain';
    switch (type) {
      case 0x01: {
        const x = b.readDoubleLE(at);
        const text = plain && Number.isFinite(x) && !Object.is(x, -0) ? doubleNumberText(x) : `{"$numberDouble":"${canonicalDoubleText(x)}"}`;
        return { text, next: at + 8 };
      }
      case 0x02:
      case 0x0e: {
        const { s, next } = this.string(at);
        return { text: type === 0x02 ? JSON.stringify(s) : `{"$symbol":${JSON.stringify(s)}}`, next };
      }
      case 0x03:
      case 0x04:
        return { text: this.document(at, type === 0x04), next: at + b.readInt32LE(at) };
      case 0x05: {
        const len = b.readInt32LE(at);
        const sub = b[at + 4]!;
        let data = b.subarray(at + 5, at + 5 + len);
        if (sub === 0x02 && len >= 4) data = data.subarray(4);
        const text = `{"$binary":{"base64":"${data.toString('base64')}","subType":"${sub.toString(16).padStart(2, '0')}"}}`;
        return { text, next: at + 5 + len };
      }
      case 0x06:
        return { text: '{"$undefined":true}', next: at };
      case 0x07: {
        const hex = b.toString('hex', at, at + 12);
        return { text: plain ? `"${hex}"` : `{"$oid":"${hex}"}`, next: at + 12 };
      }
      case 0x08:
        return { text: b[at] ? 'true' : 'false', next: at + 1 };
      case 0x09: {
        const ms = b.readBigInt64LE(at);
        const n = Number(ms);
        // Years 0000-9999 only: the four-digit ISO form is what a backup script writes and reads.
        const text = plain && n >= MIN_ISO_MS && n <= MAX_ISO_MS ? `"${new Date(n).toISOString()}"` : `{"$date":{"$numberLong":"${ms}"}}`;
        return { text, next: at + 8 };
      }
      case 0x0a:
        return { text: 'null', next: at };
      case 0x0b: {
        const p = this.cstring(at);
        const o = this.cstring(p.end);
        return { text: `{"$regularExpression":{"pattern":${JSON.stringify(p.s)},"options":${JSON.stringify(o.s)}}}`, next: o.end };
      }
      case 0x0c: {
        const { s, next } = this.string(at);
        return { text: `{"$dbPointer":{"$ref":${JSON.stringify(s)},"$id":{"$oid":"${b.toString('hex', next, next + 12)}"}}}`, next: next + 12 };
      }
      case 0x0d: {
        const { s, next } = this.string(at);
        return { text: `{"$code":${JSON.stringify(s)}}`, next };
      }
      case 0x0f: {
        const total = b.readInt32LE(at);
        const { s, next } = this.string(at + 4);
        return { text: `{"$code":${JSON.stringify(s)},"$scope":${this.document(next, false)}}`, next: at + total };
      }
      case 0x10: {
        const x = b.readInt32LE(at);
        return { text: plain ? String(x) : `{"$numberInt":"${x}"}`, next: at + 4 };
      }
      case 0x11:
        return { text: `{"$timestamp":{"t":${b.readUInt32LE(at + 4)},"i":${b.readUInt32LE(at)}}}`, next: at + 8 };
      case 0x12:
        return { text: `{"$numberLong":"${b.readBigInt64LE(at)}"}`, next: at + 8 };
      case 0x13:
        return { text: `{"$numberDecimal":"${new Decimal128(b.subarray(at, at + 16)).toString()}"}`, next: at + 16 };
      case 0xff:
        return { text: '{"$minKey":1}', next: at };
      case 0x7f:
        return { text: '{"$maxKey":1}', next: at };
      default:
        throw new FormatError(`unknown BSON type 0x${type.toString(16)}`, { type });
    }
  }
}

/**
 * One raw BSON document as one line of JSON (no newline).
 *
 * @example
 * documentJson(BSON.serialize({ _id: new ObjectId('5fee6600b07c3264c3000000'), n: 1 }), 'canonical');
 * // {"_id":{"$oid":"5fee6600b07c3264c3000000"},"n":{"$numberInt":"1"}}
 */
export function documentJson(raw: Uint8Array, flavour: JsonFlavour): string {
  const b = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return new Writer(b, flavour).document(0, false);
}
