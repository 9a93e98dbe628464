/**
 * An order-keeping JSON parser, used only for text JSON.parse has already accepted: JS objects
 * list integer-like keys first, so an object holding one is returned as a Map in text order.
 */

export function parseOrdered(text: string): unknown {
  let i = 0;
  const skipSpace = () => {
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  };
  const parseString = (): string => {
    const start = i;
    let j = i + 1;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
      } else {
        j++;
      }
    }
    i = j + 1;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, j);
  };
  const parseValue = (): unknown => {
    skipSpace();
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      const entries: [string, unknown][] = [];
      let indexKey = false;
      skipSpace();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return {};
      }
      for (;;) {
        skipSpace();
        const key = parseString();
        if (!indexKey && isArrayIndex(key)) indexKey = true;
        skipSpace();
        i++; // ':'
        entries.push([key, parseValue()]);
        skipSpace();
        if (text.charCodeAt(i++) === 0x7d) break; // '}' (else ',')
      }
      if (indexKey) return new Map(entries);
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries) setField(o, k, v);
      return o;
    }
    if (c === 0x5b) {
      i++;
      const a: unknown[] = [];
      skipSpace();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return a;
      }
      for (;;) {
        a.push(parseValue());
        skipSpace();
        if (text.charCodeAt(i++) === 0x5d) break;
      }
      return a;
    }
    if (c === 0x22) return parseString();
    if (c === 0x74) {
      i += 4;
      return true;
    }
    if (c === 0x66) {
      i += 5;
      return false;
    }
    if (c === 0x6e) {
      i += 4;
      return null;
    }
    const start = i;
    let d = c;
    while ((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b || d === 0x2e || d === 0x65 || d === 0x45) {
      d = text.charCodeAt(++i);
    }
    return Number(text.slice(start, i));
  };
  return parseValue();
}

/** Whether JS objects move `key` to the front: a canonical array index (0 .. 2^32-2). */
export function isArrayIndex(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const c0 = key.charCodeAt(0);
  if (c0 < 0x30 || c0 > 0x39 || (c0 === 0x30 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return n < 10 || Number(key) < 4294967295;
}

/** Sets a field, also one named `__proto__` (which plain assignment would treat as the prototype). */
export function setField(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    o[key] = value;
  }
}
