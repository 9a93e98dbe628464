/** Deterministic users/orders-like documents for the document text tests and benchmark. */
import { Decimal128, Long, ObjectId, type Document } from 'bson';

/** mulberry32: a tiny seeded PRNG, so every run sees the same documents. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Zoë', 'Björn', 'Mårten', 'Ana', 'José', 'Wei', 'Priya'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Müller', 'Søndergaard', 'García', 'Chen', 'Patel'];
const CITIES = ['Zürich', 'Berlin', 'London', 'New York', 'São Paulo', 'Tokyo', 'Paris'];
const PRODUCTS = ['keyboard', 'mouse', 'monitor', 'cable', 'laptop stand', 'webcam', 'headset'];

/** ObjectId, strings (some non-ASCII), nested address, Decimal128 prices, Int32 qty, dates, item arrays. */
export function sampleDocuments(count: number, seed = 42): Document[] {
  const r = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const oid = () => new ObjectId(Buffer.from(Array.from({ length: 12 }, () => Math.floor(r() * 256))));
  const docs: Document[] = [];
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST);
    const items = Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({
      sku: `SKU-${Math.floor(r() * 100000)}`,
      name: pick(PRODUCTS),
      qty: 1 + Math.floor(r() * 5),
      price: Decimal128.fromString((r() * 500).toFixed(2)),
    }));
    docs.push({
      _id: oid(),
      customerId: oid(),
      firstName: first,
      lastName: pick(LAST),
      email: `${first.toLowerCase()}.${i}@example.com`,
      age: 18 + Math.floor(r() * 60),
      score: Math.round(r() * 10000) / 100 + 0.5,
      active: r() > 0.3,
      createdAt: new Date(1_600_000_000_000 + Math.floor(r() * 1e11)),
      address: {
        street: `${Math.floor(r() * 200)} Main St`,
        city: pick(CITIES),
        zip: String(10000 + Math.floor(r() * 89999)),
        country: 'CH',
      },
      tags: ['customer', r() > 0.5 ? 'vip' : 'regular'],
      items,
      total: Decimal128.fromString((r() * 2000).toFixed(2)),
      visits: Long.fromNumber(Math.floor(r() * 1e6)),
      notes: r() > 0.8 ? null : 'Leave at the door, ring twice.',
    });
  }
  return docs;
}
