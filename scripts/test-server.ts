/**
 * npm run test-server: start the same MongoDB the tests would use (see
 * test/support/mongo-server.ts), print `MONGODB_URI=<uri>`, and keep it up until Ctrl-C.
 */
import { startMongoServer } from '../test/support/mongo-server.js';

const server = await startMongoServer();
console.log(`MONGODB_URI=${server.uri}`);
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
