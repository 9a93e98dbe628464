/** A small representative snapshot diff shared by the renderer tests. */
import { Decimal128, Double, Int32, ObjectId } from 'bson';
import { diffSnapshots, type SnapshotDiff } from '../../src/diff/index.js';
import { makeSide } from './sides.js';

const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));

export async function representativeDiff(): Promise<SnapshotDiff> {
  const idIndex = { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' };
  const from = [
    makeSide(
      'users',
      [
        { _id: oid(1), name: 'Ann', address: { city: 'Bern' }, price: Decimal128.fromString('19.99') },
        { _id: oid(2), name: 'Bob', qty: new Int32(5) },
        { _id: oid(3), name: 'Cy' },
      ],
      { meta: { indexes: [idIndex] } },
    ),
    makeSide('logs', [{ _id: new Int32(1), msg: 'x' }], { meta: { indexes: [idIndex] } }),
  ];
  const to = [
    makeSide(
      'users',
      [
        { _id: oid(1), name: 'Ann', address: { city: 'Zürich' }, price: '19.99' },
        { _id: oid(2), qty: new Double(5), name: 'Bob' },
        { _id: oid(4), name: 'Di|`x`' },
      ],
      { meta: { indexes: [idIndex, { v: new Int32(2), key: { email: new Int32(1) }, name: 'email_1', unique: true }] } },
    ),
  ];
  return diffSnapshots(from, to, { fromLabel: 'v1', toLabel: 'HEAD' });
}
