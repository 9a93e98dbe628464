/**
 * The seed's backup folder (users.json, products.json, producers.json, orders.json: one JSON array
 * per collection) made the way its backup script made it: JSON.stringify of the driver's documents,
 * so ObjectIds and references are 24-hex strings, dates ISO strings, Decimal128 `{"$numberDecimal"}`
 * and Int64 `{"low", "high", "unsigned"}`. test/fixtures/seed-backup/ holds the output for the shop
 * below; `npx tsx test/support/seed-backup.ts` rewrites it.
 */
import { writeFileSync } from 'node:fs';
import type { Document } from 'mongodb';
import { generateShop, SHOP_COLLECTIONS, type ShopCollection } from './shop.js';

export const SEED_BACKUP_SHOP = { totalDocs: 120, seed: 11 } as const;
export const SEED_BACKUP_DIR = new URL('../fixtures/seed-backup/', import.meta.url);

/** The shop's documents per collection, in generation order. */
export function seedShopDocuments(): Record<ShopCollection, Document[]> {
  const out = Object.fromEntries(SHOP_COLLECTIONS.map((c) => [c, [] as Document[]])) as Record<ShopCollection, Document[]>;
  for (const { collection, docs } of generateShop(SEED_BACKUP_SHOP)) out[collection].push(...docs);
  return out;
}

/** File name -> text, as the seed's script wrote them. */
export function seedBackupFiles(): Record<string, string> {
  const docs = seedShopDocuments();
  return Object.fromEntries(SHOP_COLLECTIONS.map((c) => [`${c}.json`, JSON.stringify(docs[c], null, 2)]));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/test\//, 'test/'))) {
  for (const [name, text] of Object.entries(seedBackupFiles())) writeFileSync(new URL(name, SEED_BACKUP_DIR), text);
}
