/**
 * Duplicated field names in part-file text (`{"_id": 1, "a": 1, "a": 2}`). JSON.parse keeps the
 * last of the two silently, so a hand-made snapshot holding one would restore as a different
 * document and fail later with a message that cannot say why. dbsnap never writes one (commit
 * refuses such documents), so the reader refuses them, naming the line, document and field.
 *
 * The check is cheap on the normal path: the members in the text are counted with one indexOf
 * scan over its strings (a key is a string followed by `:`) and compared with the members
 * JSON.parse kept; only when they differ is the text walked again to find the duplicate.
 * On the shop sample this costs about 10% of reading a part (see the speed note in the commit).
 */

/** Where a duplicated field name is: the document's index in the part, its line, and the field's path. */
export interface DuplicateField {
  /** Index of the document in the part file's array. */
  index: number;
  /** 1-based line of the second occurrence. */
  line: number;
  /** Path of the duplicated field inside the document (`["address", "city"]`). */
  path: string[];
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The index of the quote that closes the string opening at `open`. */
function stringEnd(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  // A quote preceded by an odd number of backslashes is escaped.
  while (text.charCodeAt(j - 1) === 0x5c) {
    let k = j - 1;
    while (text.charCodeAt(k) === 0x5c) k--;
    if ((j - 1 - k) % 2 === 0) break;
    j = text.indexOf('"', j + 1);
  }
  return j;
}

/** Members (`"key": value`) in JSON text that JSON.parse accepted. */
function countTextMembers(text: string): number {
  let n = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    let k = stringEnd(text, i) + 1;
    while (isSpace(text.charCodeAt(k))) k++;
    if (text.charCodeAt(k) === 0x3a) n++;
    i = text.indexOf('"', k);
  }
  return n;
}

/** Members of every object in a JSON.parse result. */
function countParsedMembers(v: unknown): number {
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null) n += countParsedMembers(x);
    }
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    n++;
    const x = o[k];
    if (typeof x === 'object' && x !== null) n += countParsedMembers(x);
  }
  return n;
}

/**
 * The first duplicated field name in a part file's text, or null. `parsed` is JSON.parse's
 * result for the same text (the cheap comparison runs first).
 */
export function findDuplicateField(text: string, parsed: unknown): DuplicateField | null {
  if (typeof parsed !== 'object' || parsed === null || countTextMembers(text) === countParsedMembers(parsed)) return null;
  return locateDuplicateField(text);
}

/** Walks the text keeping each open object's keys; the error path only. */
function locateDuplicateField(text: string): DuplicateField | null {
  type Frame = { keys: Set<string> | null; key: string; index: number };
  const stack: Frame[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) line++;
    else if (c === 0x22) {
      const end = stringEnd(text, i);
      let k = end + 1;
      while (isSpace(text.charCodeAt(k))) k++;
      const top = stack[stack.length - 1];
      if (top?.keys && text.charCodeAt(k) === 0x3a) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          const path = [...stack.slice(1, -1).map((f) => (f.keys ? f.key : String(f.index))), key];
          return { index: stack[0]?.index ?? 0, line, path };
        }
        top.keys.add(key);
        top.key = key;
      }
      i = end;
    } else if (c === 0x7b) stack.push({ keys: new Set(), key: '', index: 0 });
    else if (c === 0x5b) stack.push({ keys: null, key: '', index: 0 });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top && !top.keys) top.index++;
    }
  }
  return null;
}
