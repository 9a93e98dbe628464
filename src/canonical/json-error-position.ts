/**
 * Where a JSON syntax error is: Node 20's JSON.parse messages do not say, and a user who edited a
 * part file by hand needs a line and column.
 */

/**
 * Offset of the first JSON syntax error in `text` (Node 20's JSON.parse messages do not say
 * where it is). Only runs after JSON.parse has failed, so it favours brevity over speed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (ok: boolean) => {
    if (!ok) throw i;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          expect(text[i] === '"');
          value();
          space();
          expect(text[i] === ':');
          i++;
        }
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(text[i] === close);
        i++;
        return;
      }
    }
    if (c === '"') {
      for (i++; ; i++) {
        expect(i < text.length && text.charCodeAt(i) >= 0x20);
        if (text[i] === '\\') {
          i++;
          const e = /^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.exec(text.slice(i, i + 5));
          expect(e !== null);
          i += e![0].length - 1;
        } else if (text[i] === '"') {
          i++;
          return;
        }
      }
    }
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    expect(m !== null);
    i += m![0].length;
  };
  try {
    value();
    space();
    expect(i === text.length);
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
  return -1;
}
