/**
 * A deterministic sample "shop" database (users, producers, products, orders) used by the tests, the
 * demo and the benchmarks. Same seed + sizes give byte-identical documents in the same order, so
 * snapshot hashes over generated data are assertable and benchmark runs are comparable.
 *
 * Every document is generated from its own PRNG, seeded from (seed, collection, index). That makes
 * document i independent of how many random draws earlier documents consumed, and lets orders
 * recompute a product's price or a user's _id from an index alone — nothing is kept in memory, so a
 * million documents stream through in bounded batches.
 */
import type { AnyBulkWriteOperation, Db, Document } from 'mongodb';
import { Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { InvalidArgumentError } from '../../src/errors/index.js';

export type ShopCollection = 'users' | 'producers' | 'products' | 'orders';

export interface ShopSizes {
  users: number;
  producers: number;
  products: number;
  orders: number;
}

/** Generation order; references point backwards or sideways, never at a collection not yet sized. */
export const SHOP_COLLECTIONS: readonly ShopCollection[] = ['users', 'producers', 'products', 'orders'];

/** The date mutateShop writes into `updatedAt`; later than anything the generator produces. */
export const SHOP_MUTATED_AT = new Date('2025-06-01T12:00:00.000Z');

const DEFAULT_SEED = 1;
const DEFAULT_TOTAL = 1000;
const DEFAULT_BATCH = 1000;
/** The ObjectId counter field is 3 bytes; the index goes there, so it must fit to stay unique. */
const MAX_PER_COLLECTION = 0xffffff;
/** Generated timestamps (updatedAt, lastLoginAt) stay before this instant. */
const GENERATED_END = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

/** Each collection's documents are created evenly over [start, start + span), independent of size. */
const TIMELINE: Record<ShopCollection, { start: number; span: number; code: number }> = {
  users: { start: Date.UTC(2021, 0, 1), span: 3 * 365 * DAY, code: 1 },
  producers: { start: Date.UTC(2020, 2, 1), span: 400 * DAY, code: 2 },
  products: { start: Date.UTC(2020, 5, 1), span: 3 * 365 * DAY, code: 3 },
  orders: { start: Date.UTC(2022, 0, 1), span: 3 * 365 * DAY, code: 4 },
};

// ---------------------------------------------------------------------------------------------
// Randomness

/** 32-bit integer hash (lowbias32); mixes seed, collection and index into a PRNG seed. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function hash3(a: number, b: number, c: number): number {
  return mix32(mix32(mix32(a ^ 0x9e3779b9) ^ b) + c);
}

/** mulberry32: tiny, fast, and good enough for sample data; reseeded per document. */
/** mulberry32: a small seeded generator, the same numbers on every machine. */
export class Rng {
  private state = 0;

  reseed(seed: number): this {
    this.state = seed >>> 0;
    return this;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Up to `max` distinct items, in pool order (so the array reads naturally). */
  subset<T>(items: readonly T[], min: number, max: number): T[] {
    const want = this.int(min, max);
    const taken = new Set<number>();
    while (taken.size < Math.min(want, items.length)) taken.add(Math.floor(this.next() * items.length));
    return [...taken].sort((a, b) => a - b).map((i) => items[i]!);
  }
}

// ---------------------------------------------------------------------------------------------
// Value pools. Display names carry accents, ß, CJK, Greek, Cyrillic and the occasional emoji so
// the canonical form meets real unicode; the ASCII twin builds e-mail addresses.

const FIRST_NAMES: readonly (readonly [string, string])[] = [
  ['Anna', 'anna'], ['Élodie', 'elodie'], ['Jürgen', 'juergen'], ['Zoë', 'zoe'], ['Søren', 'soren'],
  ['Łukasz', 'lukasz'], ['José', 'jose'], ['François', 'francois'], ['Björn', 'bjorn'], ['Inès', 'ines'],
  ['Mia', 'mia'], ['Liam', 'liam'], ['Noah', 'noah'], ['Emma', 'emma'], ['Olivia', 'olivia'],
  ['Lucas', 'lucas'], ['Sofía', 'sofia'], ['Mateo', 'mateo'], ['Chloé', 'chloe'], ['Hiroshi', 'hiroshi'],
  ['明', 'ming'], ['伟', 'wei'], ['芳', 'fang'], ['Αλέξανδρος', 'alexandros'], ['Дмитрий', 'dmitry'],
  ['Aoife', 'aoife'], ['Ngozi', 'ngozi'], ['Priya', 'priya'], ['Mohammed', 'mohammed'], ['Fatma', 'fatma'],
];
const LAST_NAMES: readonly (readonly [string, string])[] = [
  ['Müller', 'mueller'], ['Groß', 'gross'], ['Schröder', 'schroeder'], ['Dubois', 'dubois'],
  ['Lefèvre', 'lefevre'], ['García', 'garcia'], ['Núñez', 'nunez'], ['Rossi', 'rossi'], ['Smith', 'smith'],
  ['Johnson', 'johnson'], ["O'Brien", 'obrien'], ['Nowak', 'nowak'], ['Kowalczyk', 'kowalczyk'],
  ['Jensen', 'jensen'], ['Öztürk', 'ozturk'], ['Yılmaz', 'yilmaz'], ['王', 'wang'], ['李', 'li'],
  ['张', 'zhang'], ['田中', 'tanaka'], ['佐藤', 'sato'], ['Nguyễn', 'nguyen'], ['Kim', 'kim'],
  ['Silva', 'silva'], ['Costa', 'costa'], ['Weiß', 'weiss'], ['Ivanova', 'ivanova'], ['Haddad', 'haddad'],
  ['Okafor', 'okafor'], ['Patel', 'patel'],
];
// Includes a ZWJ sequence and a variation selector: both are multi-code-point graphemes.
const EMOJI = ['🌻', '🚀', '🧀', '👩‍🌾', '☀️', '🐝'] as const;
const MAIL_DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'shop.example'] as const;

const CITIES: readonly (readonly [city: string, country: string, dial: string])[] = [
  ['Berlin', 'DE', '49'], ['München', 'DE', '49'], ['Köln', 'DE', '49'], ['Paris', 'FR', '33'],
  ['Lyon', 'FR', '33'], ['Besançon', 'FR', '33'], ['Zürich', 'CH', '41'], ['Genève', 'CH', '41'],
  ['Wien', 'AT', '43'], ['Madrid', 'ES', '34'], ['A Coruña', 'ES', '34'], ['Roma', 'IT', '39'],
  ['Kraków', 'PL', '48'], ['Łódź', 'PL', '48'], ['København', 'DK', '45'], ['Malmö', 'SE', '46'],
  ['Reykjavík', 'IS', '354'], ['İstanbul', 'TR', '90'], ['北京', 'CN', '86'], ['上海', 'CN', '86'],
  ['東京', 'JP', '81'], ['São Paulo', 'BR', '55'], ['New York', 'US', '1'], ['Montréal', 'CA', '1'],
  ['Hà Nội', 'VN', '84'],
];
const STREETS = [
  'Hauptstraße', 'Rue de la Paix', 'Calle Mayor', 'Via Roma', 'Main Street', 'Kungsgatan', 'ulica Długa',
  'Bahnhofstraße', 'Avenida Paulista', 'Straße des 17. Juni', '中山路', 'Øster Allé',
] as const;

const PRODUCER_KINDS = [
  'Ferme', 'Bäckerei', 'Hof', 'Quinta', 'Fattoria', 'Dairy', 'Orchard', 'Fromagerie', 'Brauerei', '农场',
  'Atelier', 'Imkerei',
] as const;
const CERTIFICATIONS = [
  'organic', 'fair-trade', 'EU-Bio', 'Demeter', 'Bioland', 'rainforest-alliance', 'halal', 'kosher',
  'vegan', 'ISO 22000', 'AB', 'Naturland',
] as const;

const PRODUCT_ADJECTIVES = [
  'Organic', 'Fresh', 'Aged', 'Smoked', 'Wild', 'Heirloom', 'Artisan', 'Raw', 'Bio', 'Hand-made',
] as const;
const PRODUCT_NOUNS = [
  'Honey', 'Gruyère', 'Sourdough', 'Olive Oil', 'Apple Juice', 'Goat Cheese', 'Sauerkraut', 'Espresso Beans',
  'Matcha 抹茶', 'Jamón', 'Crème fraîche', 'Pâté', 'Maple Syrup', 'Kimchi 김치', 'Lavender Soap', 'Brötchen',
] as const;
const PRODUCT_TAGS = [
  'organic', 'vegan', 'gluten-free', 'local', 'seasonal', 'bestseller', 'new', 'gift', 'bulk', 'dairy',
  'bakery', 'beverage', 'spicy', 'sale',
] as const;

const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
// Most orders in a real shop are long delivered; the tail statuses are rarer.
const ORDER_STATUS_WEIGHTS = [0.06, 0.08, 0.1, 0.68, 0.05, 0.03] as const;
const ORDER_NOTES = [
  'Bitte beim Nachbarn abgeben', 'Leave at the door 🚪', 'Sonnez deux fois, s’il vous plaît',
  '请放在门口', 'Gift wrap please 🎁', 'Fragile – handle with care', '',
] as const;

// ---------------------------------------------------------------------------------------------
// Sizes and ids

/**
 * Splits a total document count into collection sizes (roughly users 20%, producers 2%, products 18%,
 * orders 60%; every collection at least 1; the sum equals `totalDocs` exactly).
 *
 * @example
 * shopSizes(1000); // { users: 200, producers: 20, products: 180, orders: 600 }
 */
export function shopSizes(totalDocs: number): ShopSizes {
  if (!Number.isSafeInteger(totalDocs) || totalDocs < SHOP_COLLECTIONS.length) {
    throw new InvalidArgumentError(
      `shopSizes: totalDocs must be an integer >= ${SHOP_COLLECTIONS.length} (one per collection), got ${totalDocs}`,
      { totalDocs },
    );
  }
  const users = Math.max(1, Math.floor(totalDocs * 0.2));
  const producers = Math.max(1, Math.floor(totalDocs * 0.02));
  const products = Math.max(1, Math.floor(totalDocs * 0.18));
  return { users, producers, products, orders: totalDocs - users - producers - products };
}

function resolveSizes(opts: { totalDocs?: number; sizes?: ShopSizes }): ShopSizes {
  const sizes = opts.sizes ?? shopSizes(opts.totalDocs ?? DEFAULT_TOTAL);
  for (const name of SHOP_COLLECTIONS) {
    const n = sizes[name];
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_PER_COLLECTION) {
      throw new InvalidArgumentError(`shop sizes: ${name} must be an integer in 0..${MAX_PER_COLLECTION}, got ${n}`, {
        collection: name,
        size: n,
      });
    }
  }
  if (sizes.orders > 0 && (sizes.users === 0 || sizes.products === 0)) {
    throw new InvalidArgumentError('shop sizes: orders need at least one user and one product', { ...sizes });
  }
  if (sizes.products > 0 && sizes.producers === 0) {
    throw new InvalidArgumentError('shop sizes: products need at least one producer', { ...sizes });
  }
  return sizes;
}

/**
 * Knows everything needed to name documents by index: their _id (timestamp from the collection
 * timeline, 5 "process" bytes from the seed, the index as counter) and their creation second.
 * With a constant middle, ObjectIds sort exactly like (second, index), i.e. in creation order.
 */
class ShopIds {
  private readonly process: Record<ShopCollection, Uint8Array>;

  constructor(
    readonly seed: number,
    readonly sizes: ShopSizes,
  ) {
    this.process = {} as Record<ShopCollection, Uint8Array>;
    for (const name of SHOP_COLLECTIONS) {
      const bytes = Buffer.alloc(5);
      bytes.writeUInt32BE(hash3(seed, TIMELINE[name].code, 0x0b1d), 0);
      bytes[4] = hash3(seed, TIMELINE[name].code, 0x0b1e) & 0xff;
      this.process[name] = bytes;
    }
  }

  /** Whole seconds since the epoch at which document `index` was created. */
  createdSecond(collection: ShopCollection, index: number): number {
    const { start, span } = TIMELINE[collection];
    return Math.floor((start + Math.floor((index * span) / this.sizes[collection])) / 1000);
  }

  id(collection: ShopCollection, index: number): ObjectId {
    const bytes = new Uint8Array(12);
    const second = this.createdSecond(collection, index);
    bytes[0] = second >>> 24;
    bytes[1] = second >>> 16;
    bytes[2] = second >>> 8;
    bytes[3] = second;
    bytes.set(this.process[collection], 4);
    bytes[9] = index >>> 16;
    bytes[10] = index >>> 8;
    bytes[11] = index;
    return new ObjectId(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Documents

/** `1234` -> `"12.34"`; used where a price is read back or shown as text. */
export function formatCents(cents: number): string {
  const whole = Math.floor(cents / 100);
  const frac = cents % 100;
  return `${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/**
 * Decimal128 for a whole number of cents: coefficient `cents`, exponent -2 — the same bits
 * `Decimal128.fromString('12.34')` produces, written directly because fromString costs ~3.5 µs and a
 * million-document shop holds over two million prices.
 */
export function decimalFromCents(cents: number): Decimal128 {
  if (!Number.isSafeInteger(cents) || cents < 0) {
    throw new InvalidArgumentError(`decimalFromCents: cents must be a non-negative safe integer, got ${cents}`, { cents });
  }
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32LE(cents % 0x1_0000_0000, 0);
  bytes.writeUInt32LE(Math.floor(cents / 0x1_0000_0000), 4);
  // High word: sign 0, biased exponent (6176 - 2) in bits 49..62 of the 128-bit little-endian value.
  bytes.writeUInt32LE((6176 - 2) << 17, 12);
  return new Decimal128(bytes);
}

/** A product's list price, derived from (seed, index) alone so orders can quote it without the product. */
function productPriceCents(seed: number, index: number): number {
  const u = hash3(seed, 0x9e1ce, index) / 4294967296;
  // Squared to skew toward cheap groceries: 0.99 .. ~150.00
  return 99 + Math.floor(u * u * 15_000);
}

function phone(rng: Rng, dial: string): string {
  return `+${dial} ${rng.int(10, 999)} ${rng.int(1_000_000, 9_999_999)}`;
}

function address(rng: Rng, withPhone: boolean): Document {
  const [city, country, dial] = rng.pick(CITIES);
  const doc: Document = {
    street: `${rng.pick(STREETS)} ${rng.int(1, 240)}`,
    city,
    zip: String(rng.int(1000, 99_999)).padStart(5, '0'),
    country,
  };
  if (withPhone && rng.chance(0.7)) doc.phone = phone(rng, dial);
  return doc;
}

/** A moment in (from, GENERATED_END), or `from` itself when the document was never touched again. */
function laterDate(rng: Rng, from: number, pUnchanged: number): Date {
  if (rng.chance(pUnchanged)) return new Date(from);
  return new Date(from + Math.floor(rng.next() * (GENERATED_END - from)));
}

function createdAt(ids: ShopIds, rng: Rng, collection: ShopCollection, index: number): number {
  // Same second as the ObjectId timestamp, like an app that stamps both at insert time.
  return ids.createdSecond(collection, index) * 1000 + rng.int(0, 999);
}

function userDoc(ids: ShopIds, rng: Rng, i: number): Document {
  const [first, firstAscii] = rng.pick(FIRST_NAMES);
  const [last, lastAscii] = rng.pick(LAST_NAMES);
  const created = createdAt(ids, rng, 'users', i);
  const role = rng.chance(0.9) ? 'customer' : rng.chance(0.8) ? 'producer' : 'admin';
  const doc: Document = {
    _id: ids.id('users', i),
    firstName: rng.chance(0.04) ? `${first} ${rng.pick(EMOJI)}` : first,
    lastName: last,
    // The index makes the address unique by construction, whatever the names drew.
    email: `${firstAscii}.${lastAscii}.${i}@${rng.pick(MAIL_DOMAINS)}`,
    role,
    address: address(rng, true),
    loyaltyPoints: Long.fromNumber(rng.chance(0.2) ? 0 : rng.int(1, 250_000)),
    newsletter: rng.chance(0.35),
  };
  // About a third of users gave a birth date; 1940-2005 puts many before the epoch (negative millis).
  if (rng.chance(0.3)) {
    doc.birthDate = new Date(Date.UTC(rng.int(1940, 2005), rng.int(0, 11), rng.int(1, 28)));
  }
  doc.createdAt = new Date(created);
  doc.updatedAt = laterDate(rng, created, 0.3);
  doc.lastLoginAt = rng.chance(0.15) ? null : laterDate(rng, created, 0.05);
  return doc;
}

function producerDoc(ids: ShopIds, rng: Rng, i: number): Document {
  const [, country, dial] = rng.pick(CITIES);
  const [owner] = rng.pick(LAST_NAMES);
  const created = createdAt(ids, rng, 'producers', i);
  // One decimal place; whole values (4.0) must still be stored as double, not int32.
  const rating = rng.int(25, 50) / 10;
  return {
    _id: ids.id('producers', i),
    name: `${rng.pick(PRODUCER_KINDS)} ${owner}`,
    country,
    certifications: rng.subset(CERTIFICATIONS, 0, 4),
    rating: new Double(rating),
    contact: { email: `contact.${i}@producers.example`, phone: phone(rng, dial) },
    createdAt: new Date(created),
    updatedAt: laterDate(rng, created, 0.2),
  };
}

function productDoc(ids: ShopIds, rng: Rng, i: number): Document {
  const created = createdAt(ids, rng, 'products', i);
  // Weights in grams, so some come out whole (1 kg) and exercise integral doubles.
  const weightKg = rng.chance(0.2) ? rng.int(1, 25) : rng.int(50, 25_000) / 1000;
  return {
    _id: ids.id('products', i),
    producerId: ids.id('producers', rng.int(0, ids.sizes.producers - 1)),
    name: `${rng.pick(PRODUCT_ADJECTIVES)} ${rng.pick(PRODUCT_NOUNS)}`,
    sku: `SKU-${String(i).padStart(7, '0')}`,
    price: decimalFromCents(productPriceCents(ids.seed, i)),
    stock: new Int32(rng.chance(0.08) ? 0 : rng.int(1, 500)),
    tags: rng.subset(PRODUCT_TAGS, 0, 3),
    weightKg: new Double(weightKg),
    active: rng.chance(0.9),
    createdAt: new Date(created),
    updatedAt: laterDate(rng, created, 0.4),
  };
}

function pickStatus(rng: Rng): (typeof ORDER_STATUSES)[number] {
  let u = rng.next();
  for (let s = 0; s < ORDER_STATUSES.length; s++) {
    u -= ORDER_STATUS_WEIGHTS[s]!;
    if (u < 0) return ORDER_STATUSES[s]!;
  }
  return ORDER_STATUSES[ORDER_STATUSES.length - 1]!;
}

function orderDoc(ids: ShopIds, rng: Rng, i: number): Document {
  const created = createdAt(ids, rng, 'orders', i);
  const userId = ids.id('users', rng.int(0, ids.sizes.users - 1));
  const itemCount = rng.chance(0.5) ? 1 : rng.int(2, 4);
  const items: Document[] = [];
  let totalCents = 0;
  for (let k = 0; k < itemCount; k++) {
    const product = rng.int(0, ids.sizes.products - 1);
    const qty = rng.chance(0.7) ? 1 : rng.int(2, 5);
    let unitCents = productPriceCents(ids.seed, product);
    // Some orders were placed during a 10% sale; cents truncate like a till would.
    if (rng.chance(0.1)) unitCents = Math.floor((unitCents * 9) / 10);
    totalCents += qty * unitCents;
    items.push({
      productId: ids.id('products', product),
      qty: new Int32(qty),
      unitPrice: decimalFromCents(unitCents),
    });
  }
  const doc: Document = {
    _id: ids.id('orders', i),
    userId,
    items,
    total: decimalFromCents(totalCents),
    status: pickStatus(rng),
    shippingAddress: address(rng, false),
    createdAt: new Date(created),
    updatedAt: laterDate(rng, created, 0.1),
  };
  if (rng.chance(0.12)) doc.notes = rng.pick(ORDER_NOTES);
  return doc;
}

const BUILDERS: Record<ShopCollection, (ids: ShopIds, rng: Rng, i: number) => Document> = {
  users: userDoc,
  producers: producerDoc,
  products: productDoc,
  orders: orderDoc,
};

/**
 * Deterministic generator of the shop: same seed + sizes give byte-identical documents
 * (`BSON.serialize` equal) in the same order. Yields batches of at most `batchSize` documents per
 * collection, in the order users, producers, products, orders, so a million documents never sit in
 * memory at once. Defaults: 1000 documents, seed 1, batches of 1000.
 *
 * @example
 * for (const { collection, docs } of generateShop({ totalDocs: 10_000, seed: 7 })) {
 *   await db.collection(collection).insertMany(docs);
 * }
 */
export function* generateShop(opts: {
  totalDocs?: number;
  sizes?: ShopSizes;
  seed?: number;
  batchSize?: number;
}): Generator<{ collection: ShopCollection; docs: Document[] }> {
  const sizes = resolveSizes(opts);
  const seed = (opts.seed ?? DEFAULT_SEED) >>> 0;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError(`generateShop: batchSize must be a positive integer, got ${batchSize}`, {
      batchSize,
    });
  }
  const ids = new ShopIds(seed, sizes);
  const rng = new Rng();
  for (const collection of SHOP_COLLECTIONS) {
    const build = BUILDERS[collection];
    const code = TIMELINE[collection].code;
    let docs: Document[] = [];
    for (let i = 0; i < sizes[collection]; i++) {
      docs.push(build(ids, rng.reseed(hash3(seed, code, i)), i));
      if (docs.length === batchSize) {
        yield { collection, docs };
        docs = [];
      }
    }
    if (docs.length > 0) yield { collection, docs };
  }
}

// ---------------------------------------------------------------------------------------------
// Server side

/**
 * Creates the shop collections with their indexes (unique `email_1` on users, `producerId_1` on
 * products, `{ userId: 1, createdAt: -1 }` on orders) and inserts the generated documents with
 * insertMany in batches of 1000. Returns the sizes inserted. Expects the collections not to hold
 * shop documents yet (duplicate _ids would fail the insert).
 *
 * @example
 * const sizes = await loadShop(client.db('shop'), { totalDocs: 100_000, seed: 1 });
 */
export async function loadShop(
  db: Db,
  opts: {
    totalDocs?: number;
    sizes?: ShopSizes;
    seed?: number;
    onProgress?: (p: { collection: ShopCollection; done: number; total: number }) => void;
  },
): Promise<ShopSizes> {
  const sizes = resolveSizes(opts);
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of SHOP_COLLECTIONS) {
    if (!existing.has(name)) await db.createCollection(name);
  }
  await db.collection('users').createIndex({ email: 1 }, { name: 'email_1', unique: true });
  await db.collection('products').createIndex({ producerId: 1 }, { name: 'producerId_1' });
  await db.collection('orders').createIndex({ userId: 1, createdAt: -1 }, { name: 'userId_1_createdAt_-1' });

  const done: Record<string, number> = {};
  for (const { collection, docs } of generateShop({ sizes, seed: opts.seed, batchSize: 1000 })) {
    await db.collection(collection).insertMany(docs, { ordered: false });
    done[collection] = (done[collection] ?? 0) + docs.length;
    opts.onProgress?.({ collection, done: done[collection]!, total: sizes[collection] });
  }
  return { ...sizes };
}

/**
 * Picks exactly k of n items in one pass (Knuth's selection sampling), so the _ids can stream from a
 * cursor in _id order and the choice depends only on the seed and the sorted _ids.
 */
function selectionSampler(rng: Rng, n: number, k: number): () => boolean {
  let seen = 0;
  let chosen = 0;
  return () => {
    const take = (n - seen) * rng.next() < k - chosen;
    seen++;
    if (take) chosen++;
    return take;
  };
}

/**
 * One change per collection. New values are computed client-side and written with $set, so the
 * result never depends on server-side operator semantics ($inc on a Long, decimal arithmetic).
 */
const MUTATIONS: Record<ShopCollection, { projection: Document; update: (doc: Document) => Document }> = {
  users: {
    projection: { loyaltyPoints: 1 },
    update: (doc) => {
      // The driver promotes int64 to number by default; either way the write is a Long again.
      const points =
        doc.loyaltyPoints instanceof Long ? doc.loyaltyPoints : Long.fromNumber(Number(doc.loyaltyPoints ?? 0));
      return { loyaltyPoints: points.add(100), lastLoginAt: SHOP_MUTATED_AT, updatedAt: SHOP_MUTATED_AT };
    },
  },
  producers: {
    projection: { rating: 1 },
    update: (doc) => {
      const tenths = Math.round(Number(doc.rating ?? 0) * 10);
      return { rating: new Double((tenths >= 50 ? 30 : tenths + 1) / 10), updatedAt: SHOP_MUTATED_AT };
    },
  },
  products: {
    projection: { price: 1, stock: 1 },
    update: (doc) => {
      const cents = Math.round(Number(String(doc.price ?? '0')) * 100);
      // +5%, at least one cent, so every mutation is visible in the price.
      const next = Math.max(cents + 1, Math.round((cents * 105) / 100));
      const stock = Math.max(0, Number(doc.stock ?? 0) - 1);
      return { price: decimalFromCents(next), stock: new Int32(stock), updatedAt: SHOP_MUTATED_AT };
    },
  },
  orders: {
    projection: { status: 1 },
    update: (doc) => {
      const at = ORDER_STATUSES.indexOf(doc.status as (typeof ORDER_STATUSES)[number]);
      return { status: ORDER_STATUSES[(at + 1) % ORDER_STATUSES.length], updatedAt: SHOP_MUTATED_AT };
    },
  },
};

/**
 * Deterministically picks `fraction` of each shop collection's documents (seeded selection over the
 * _ids in ascending order; at least one when the fraction is positive) and changes each picked one:
 * users earn 100 loyalty points and log in, producers' rating moves by 0.1, products get 5% dearer and
 * lose one unit of stock, orders advance one status. Every change sets `updatedAt` to
 * {@link SHOP_MUTATED_AT}. Returns how many documents changed per collection.
 *
 * @example
 * await mutateShop(db, { fraction: 0.001, seed: 1 }); // { users: 200, producers: 20, ... }
 */
export async function mutateShop(db: Db, opts: { fraction: number; seed?: number }): Promise<Record<string, number>> {
  const { fraction } = opts;
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new InvalidArgumentError(`mutateShop: fraction must be between 0 and 1, got ${fraction}`, { fraction });
  }
  const seed = (opts.seed ?? DEFAULT_SEED) >>> 0;
  const rng = new Rng();
  const changed: Record<string, number> = {};
  for (const collection of SHOP_COLLECTIONS) {
    const coll = db.collection(collection);
    const n = await coll.countDocuments({});
    const k = Math.min(n, fraction > 0 ? Math.max(1, Math.round(fraction * n)) : 0);
    changed[collection] = 0;
    if (k === 0) continue;
    const { projection, update } = MUTATIONS[collection];
    const pick = selectionSampler(rng.reseed(hash3(seed, TIMELINE[collection].code, 0x0a7e)), n, k);
    let ops: AnyBulkWriteOperation[] = [];
    const flush = async () => {
      if (ops.length === 0) return;
      const result = await coll.bulkWrite(ops, { ordered: true });
      changed[collection]! += result.modifiedCount;
      ops = [];
    };
    const cursor = coll.find({}, { projection, sort: { _id: 1 } });
    for await (const doc of cursor) {
      if (!pick()) continue;
      ops.push({ updateOne: { filter: { _id: doc._id }, update: { $set: update(doc) } } });
      if (ops.length === 1000) await flush();
    }
    await flush();
  }
  return changed;
}
