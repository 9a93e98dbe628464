/**
 * A JSON parser for files other tools wrote (mongoexport, mongodump's metadata.json, backup
 * scripts). Unlike `JSON.parse` it keeps what a BSON document needs and JSON.parse drops: every
 * object's keys in text order (integer-like keys included), duplicate keys, and each number's text
 * (so `24.0` stays a double and `9007199254740993` an exact Int64). Errors carry the byte offset,
 * line and column of the first bad character. (canonical/ordered-json-parser.ts reads dbsnap's own
 * part files, which JSON.parse has already accepted; this one reads files nobody has checked.)
 */

/** A JSON number, kept as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A JSON object, its members in text order. */
export class JsonObject {
  constructor(readonly entries: [string, JsonValue][]) {}
  get(key: string): JsonValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
  keys(): string[] {
    return this.entries.map(([k]) => k);
  }
}

export type JsonValue = string | boolean | null | JsonNumber | JsonObject | JsonValue[];

/** Where a JSON text went wrong: a UTF-8 byte offset, and the 1-based line and column. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column} (byte offset ${offset})`);
  }
}

/** Line, column and UTF-8 byte offset of a string index. */
export function positionOf(text: string, index: number): { line: number; column: number; offset: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1, offset: Buffer.byteLength(text.slice(0, index), 'utf8') };
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(reason: string, at = this.i): never {
    const p = positionOf(this.s, at);
    throw new JsonSyntaxError(reason, p.offset, p.line, p.column);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  value(depth: number): JsonValue {
    if (depth > 200) this.fail('nesting deeper than 200 levels');
    this.ws();
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b /* { */:
        return this.object(depth);
      case 0x5b /* [ */:
        return this.array(depth);
      case 0x22 /* " */:
        return this.string();
      case 0x74 /* t */:
        return this.word('true', true);
      case 0x66 /* f */:
        return this.word('false', false);
      case 0x6e /* n */:
        return this.word('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        if (Number.isNaN(c)) this.fail('unexpected end of input');
        return this.fail(`unexpected character ${JSON.stringify(this.s[this.i])}`);
    }
  }

  word<T>(w: string, v: T): T {
    if (this.s.startsWith(w, this.i)) {
      this.i += w.length;
      return v;
    }
    return this.fail(`unexpected character ${JSON.stringify(this.s[this.i])}`);
  }

  number(): JsonNumber {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r || r[0] === '-') return this.fail('invalid number');
    this.i += r[0].length;
    return new JsonNumber(r[0]);
  }

  string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = '';
    let start = i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        out += s.slice(start, i);
        this.i = i + 1;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s[i + 1];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = s.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape', i);
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            this.fail('invalid escape', i);
        }
        i += 2;
        start = i;
        continue;
      }
      if (Number.isNaN(c)) this.fail('unterminated string', this.i);
      if (c < 0x20) this.fail('control character in string', i);
      i++;
    }
  }

  array(depth: number): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return out;
      }
      return this.fail(Number.isNaN(c) ? 'unexpected end of input (unclosed array)' : "expected ',' or ']'");
    }
  }

  object(depth: number): JsonObject {
    this.i++;
    const entries: [string, JsonValue][] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return new JsonObject(entries);
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail(Number.isNaN(this.s.charCodeAt(this.i)) ? 'unexpected end of input (unclosed object)' : 'expected a quoted key');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      entries.push([key, this.value(depth + 1)]);
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return new JsonObject(entries);
      }
      return this.fail(Number.isNaN(c) ? 'unexpected end of input (unclosed object)' : "expected ',' or '}'");
    }
  }
}

/** Parses one complete JSON text. */
export function parseJsonText(text: string): JsonValue {
  const p = new Parser(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const v = p.value(0);
  p.ws();
  if (p.i < p.s.length) p.fail('unexpected text after the JSON value');
  return v;
}

/** One value of a multi-value JSON file, with the 1-based line it starts on. */
export interface JsonRecord {
  value: JsonValue;
  line: number;
  /** Position in the file's records (0-based). */
  index: number;
}

/**
 * The values of a file holding either one JSON array (mongoexport --jsonArray, a backup script's
 * JSON.stringify) or JSON values one after another (mongoexport's default: one per line).
 */
export function parseJsonRecords(text: string): { shape: 'array' | 'lines'; records: JsonRecord[] } {
  const p = new Parser(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const records: JsonRecord[] = [];
  let line = 1;
  let lineAt = 0;
  const lineOf = (i: number) => {
    for (let j = p.s.indexOf('\n', lineAt); j !== -1 && j < i; j = p.s.indexOf('\n', j + 1)) {
      line++;
      lineAt = j + 1;
    }
    return line;
  };
  p.ws();
  if (p.s.charCodeAt(p.i) === 0x5b) {
    p.i++;
    p.ws();
    if (p.s.charCodeAt(p.i) === 0x5d) p.i++;
    else {
      for (;;) {
        p.ws();
        const l = lineOf(p.i);
        records.push({ value: p.value(1), line: l, index: records.length });
        p.ws();
        const c = p.s.charCodeAt(p.i);
        if (c === 0x2c) {
          p.i++;
          continue;
        }
        if (c === 0x5d) {
          p.i++;
          break;
        }
        p.fail(Number.isNaN(c) ? 'unexpected end of input (unclosed array)' : "expected ',' or ']'");
      }
    }
    p.ws();
    if (p.i < p.s.length) p.fail('unexpected text after the JSON array');
    return { shape: 'array', records };
  }
  while (p.i < p.s.length) {
    const l = lineOf(p.i);
    records.push({ value: p.value(0), line: l, index: records.length });
    p.ws();
  }
  return { shape: 'lines', records };
}
