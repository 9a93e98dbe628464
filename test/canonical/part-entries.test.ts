import { BSON, Int32 } from 'bson';
import { describe, expect, it } from 'vitest';
import { partFileText, writeDocument } from '../../src/canonical/document-writer.js';
import { partEntries } from '../../src/canonical/part-entries.js';

describe('part entries', () => {
  it('cuts a part into its documents without decoding them, and decodes each exactly on demand', () => {
    const raws = [
      BSON.serialize({ _id: new Int32(1), a: { nested: [1, { x: '  },\n  {' }] } }),
      BSON.serialize({ _id: 'two', b: [] }),
      BSON.serialize({ _id: { k: 3, j: 'x' } }),
    ];
    const texts = raws.map((r) => writeDocument(r).text);
    const entries = partEntries(partFileText(texts), 'p.json')!;
    expect(entries.map((e) => e.id)).toEqual([new Int32(1), 'two', { k: new Int32(3), j: 'x' }]);
    entries.forEach((e, i) => {
      expect(`  {\n${e.text}\n  }`).toBe(texts[i]);
      expect(Buffer.from(BSON.serialize(e.doc())).equals(Buffer.from(raws[i]!))).toBe(true);
    });
    expect(partEntries('[]\n', 'empty.json')).toEqual([]);
    expect(partEntries('[{"_id": 1}]', 'hand-written.json')).toBeNull();
  });
});
