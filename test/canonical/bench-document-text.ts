/**
 * Throughput of the document text writer and reader against bson's EJSON, on users/orders-like
 * documents. Not a test (nothing is asserted, nothing is timed in CI); run it by hand:
 *
 *   npx tsx test/canonical/bench-document-text.ts [count]
 */
import { BSON, EJSON } from 'bson';
import { partFileText, readPartFile, writeDocument } from '../../src/canonical/index.js';
import { writeDocumentBytes } from '../../src/canonical/bson-text-walker.js';
import { sampleDocuments } from './sample-documents.js';

/**
 * Best of five runs, in CPU time of this process rather than wall time: other processes
 * competing for the cores skew wall time far more than the differences being measured.
 */
function rate(label: string, n: number, fn: () => void): number {
  fn(); // warm up
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = process.cpuUsage();
    fn();
    const used = process.cpuUsage(t0);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  const perSecond = Math.round(n / best);
  console.log(`${label.padEnd(44)} ${String(perSecond).padStart(9)} docs/s`);
  return perSecond;
}

const count = Number(process.argv[2] ?? 50_000);
const docs = sampleDocuments(count);
const raws = docs.map((d) => BSON.serialize(d));
const decoded = raws.map((b) => BSON.deserialize(b, { promoteValues: false }));
const bytes = raws.reduce((s, b) => s + b.length, 0);
console.log(`${count} documents, ${(bytes / count).toFixed(0)} BSON bytes each`);

let texts: string[] = [];
rate('BSON.deserialize(raw)', count, () => {
  for (const b of raws) BSON.deserialize(b);
});
rate('EJSON.stringify(deserialize(raw))', count, () => {
  for (const b of raws) EJSON.stringify(BSON.deserialize(b), { relaxed: false });
});
rate('JSON.stringify(EJSON.serialize(doc))', count, () => {
  for (const d of decoded) JSON.stringify(EJSON.serialize(d, { relaxed: false }));
});
rate('writeDocument(raw)', count, () => {
  texts = raws.map((b) => writeDocument(b).text);
});
rate('writeDocumentBytes(raw) (what commit uses)', count, () => {
  for (const b of raws) writeDocumentBytes(b);
});
rate('writeDocument(raw, {sortKeys})', count, () => {
  for (const b of raws) writeDocument(b, { sortKeys: true });
});
const part = partFileText(texts);
const ejsonTexts = decoded.map((d) => EJSON.stringify(d, { relaxed: false }));
rate('EJSON.parse(text, {relaxed: false})', count, () => {
  for (const t of ejsonTexts) EJSON.parse(t, { relaxed: false });
});
rate('readPartFile(part)', count, () => {
  readPartFile(part, 'bench');
});
console.log(`part file: ${(part.length / count).toFixed(0)} characters per document`);
