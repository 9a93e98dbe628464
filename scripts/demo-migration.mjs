// The demo's "migration 042": every product gets a currency, and orders are found by status.
// A real project would run e.g. `npx migrate-mongo up` here. Uses MONGODB_URI, as dbsnap does.
import { MongoClient } from 'mongodb';

const client = await MongoClient.connect(process.env.MONGODB_URI);
try {
  const db = client.db();
  const r = await db.collection('products').updateMany({ currency: { $exists: false } }, { $set: { currency: 'EUR' } });
  await db.collection('orders').createIndex({ status: 1 });
  console.log(`migration 042: ${r.modifiedCount} products got a currency; orders indexed by status`);
} finally {
  await client.close();
}
