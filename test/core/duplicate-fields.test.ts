/**
 * A document with one field name twice ({_id: 1, a: 1, a: 2}, which MongoDB stores as sent):
 * commit refuses it naming the collection, _id and field; a snapshot holding one anyway (made
 * by hand) is never restored by merge as "identical" (issue #10, defects 3 and 5).
 */
import { Socket } from 'node:net';
import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { commit, restore } from '../../src/index.js';
import { commitHandmadeSnapshot } from '../support/handmade-snapshot.js';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { useTestDatabase } from '../support/test-db.js';

let repo = '';
useTempRepository('dupfields', (r) => ({ repo } = r));

/** {_id: id, a: 1, a: 2} as raw BSON: no driver can build it from a JS object. */
function duplicated(id: number): Buffer {
  const int = (name: string, v: number) => Buffer.concat([Buffer.from([0x10]), Buffer.from(`${name}\0`), Buffer.from(Int32Array.of(v).buffer)]);
  const body = Buffer.concat([int('_id', id), int('a', 1), int('a', 2), Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4);
  return Buffer.concat([len, body]);
}

/** Sends `insert` with raw documents as one OP_MSG (kind-1 section), as a raw client would. */
async function insertRaw(uri: string, db: string, collection: string, docs: Buffer[]): Promise<void> {
  const m = /^mongodb:\/\/(?:[^@/]*@)?([^/?,:]+):(\d+)/.exec(uri)!;
  const body = Buffer.from(BSON.serialize({ insert: collection, $db: db }));
  const seqPayload = Buffer.concat([Buffer.from('documents\0'), ...docs]);
  const seqLen = Buffer.alloc(4);
  seqLen.writeInt32LE(seqPayload.length + 4);
  const msg = Buffer.concat([Buffer.alloc(16), Buffer.alloc(4), Buffer.from([0]), body, Buffer.from([1]), seqLen, seqPayload]);
  msg.writeInt32LE(msg.length, 0);
  msg.writeInt32LE(1, 4);
  msg.writeInt32LE(2013, 12);
  const socket = new Socket();
  await new Promise<void>((resolve, reject) => socket.connect(Number(m[2]), m[1]!, resolve).on('error', reject));
  const reply = await new Promise<Buffer>((resolve) => {
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= got.readInt32LE(0)) resolve(got);
    });
    socket.write(msg);
  });
  socket.destroy();
  const doc = BSON.deserialize(reply.subarray(21));
  if (doc.ok !== 1 || doc.writeErrors) throw new Error(`raw insert failed: ${JSON.stringify(doc)}`);
}

describe('documents with a duplicated field name', () => {
  it('commit refuses them, naming the collection, the _id and the field; HEAD does not move', async () => {
    const t = await useTestDatabase('dupfields');
    try {
      await t.db.collection('fine').insertOne({ _id: 1 });
      await insertRaw(t.uri, t.dbName, 'odd', [duplicated(7)]);
      const err = (await commit({ repo, uri: t.dbUri, ...FIXED }).catch((e: unknown) => e)) as { code: string; message: string; data: Record<string, unknown> };
      expect(err.code).toBe('EFORMAT');
      expect(err.message).toBe(
        'collection "odd": cannot write BSON document {"_id": 7}: the field name "a" appears twice in one document (MongoDB keeps both, JSON and the driver keep one); ' +
          'nothing was committed and HEAD did not move. Fix the document (for a duplicated field, rewrite it without the duplicate) and commit again.',
      );
      expect(err.data).toMatchObject({ collection: 'odd', id: '7' });
    } finally {
      await t.drop();
    }
  });

  it('merge restore of a snapshot that holds one (made by hand) is refused before writing, naming line and field', async () => {
    const t = await useTestDatabase('dupmerge');
    try {
      // Written as {_id: 1, a: 1, b: 2}, then the text edited to say "a" twice.
      const plain = Buffer.from(BSON.serialize({ _id: 1, a: 1, b: 2 }));
      await commitHandmadeSnapshot(repo, 'odd', [plain], (text) => text.replace('"b": 2', '"a": 2'));
      await t.db.collection('odd').insertOne({ _id: 99, other: true });
      const err = (await restore({ repo, ref: 'HEAD', uri: t.dbUri, mode: 'merge', backup: false, confirm: async () => true }).catch((e: unknown) => e)) as {
        code: string;
        message: string;
        data: Record<string, unknown>;
      };
      // The reader refuses the duplicate before anything is written: nothing was upserted.
      expect(err.code).toBe('EFORMAT');
      expect(err.message).toContain('collections/odd/parts/first.json: line 5, document 0 (_id 1): the field name "a" appears twice.');
      expect(err.data).toMatchObject({ source: 'collections/odd/parts/first.json', line: 5, index: 0, field: 'a' });
      expect(await t.db.collection('odd').find().toArray()).toEqual([{ _id: 99, other: true }]);
    } finally {
      await t.drop();
    }
  });
});
