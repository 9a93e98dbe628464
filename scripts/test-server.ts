/**
 * npm run test-server: start the same MongoDB the tests would use (see
 * test/support/mongo-server.ts), print `MONGODB_URI=<uri>`, and keep it up until Ctrl-C.
 * `npm run test-server -- --shop N` also loads the sample shop (N documents) into database `shop`.
 */
import { MongoClient } from 'mongodb';
import { startMongoServer, uriWithDatabase } from '../test/support/mongo-server.js';
import { loadShop } from '../test/support/shop.js';

const server = await startMongoServer();
const shopAt = process.argv.indexOf('--shop');
let uri = server.uri;
if (shopAt !== -1) {
  const docs = Number(process.argv[shopAt + 1] ?? 2000);
  const client = new MongoClient(server.uri);
  await client.connect();
  const sizes = await loadShop(client.db('shop'), { totalDocs: docs, seed: 1 });
  await client.close();
  console.error(`test-server: loaded the sample shop into database shop: ${JSON.stringify(sizes)}`);
  // Printed with the database, so `export MONGODB_URI=...` works as printed.
  uri = uriWithDatabase(server.uri, 'shop');
}
console.log(`MONGODB_URI=${uri}`);
console.error(`test-server: ${server.description}; Ctrl-C to stop`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`test-server: ${signal}, stopping`);
  await server.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// The wire server's listening socket keeps the event loop alive; an external server does not.
setInterval(() => {}, 1 << 30);
