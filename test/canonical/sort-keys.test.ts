import stableStringify from 'json-stable-stringify';
import { BSON, Int32 } from 'bson';
import { describe, expect, it } from 'vitest';
import { writeDocument } from '../../src/canonical/document-writer.js';

/** Our document text sits inside the part array, indented two spaces more than a standalone value. */
const dedent = (s: string) => s.split('\n').map((l) => l.slice(2)).join('\n');

describe('--sort-keys', () => {
  it('orders keys exactly as json-stable-stringify does, at every depth', () => {
    const doc = {
      _id: new Int32(1),
      zeta: 'z',
      alpha: { gamma: new Int32(3), beta: [{ y: 'y', x: 'x' }, 'b'], a: {} },
      mid: [],
      Upper: true,
      'with space': null,
      émoji: '😀',
    };
    const { text } = writeDocument(BSON.serialize(doc), { sortKeys: true });
    const parsed = JSON.parse(dedent(text));
    // Our writer keeps `_id` first; json-stable-stringify would sort it among the others.
    const { _id, ...rest } = parsed;
    const expected = stableStringify(rest, { space: 2 })!
      .replace(/^\{\n/, `{\n  "_id": ${JSON.stringify(_id)},\n`)
      // json-stable-stringify spreads empty containers over two lines; the part format keeps them inline.
      .replace(/\{\n\s*\}/g, '{}')
      .replace(/\[\n\s*\]/g, '[]');
    expect(dedent(text)).toBe(expected);
  });

  it('never reorders the keys inside _id', () => {
    const { text, idText } = writeDocument(BSON.serialize({ z: 1, _id: { b: 1, a: 2 } }), { sortKeys: true });
    expect(idText).toBe('{"b": 1, "a": 2}');
    expect(text.split('\n')[1]).toBe('    "_id": {"b": 1, "a": 2},');
  });
});
