/**
 * vitest globalSetup: start one MongoDB for the whole run (see mongo-server.ts) and hand its
 * URI to the tests through `inject('mongoUri')`.
 */
import type { TestProject } from 'vitest/node';
import { startMongoServer } from './mongo-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    mongoKind: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startMongoServer();
  console.log(`dbsnap tests: MongoDB server = ${server.kind} (${server.uri})`);
  project.provide('mongoUri', server.uri);
  project.provide('mongoKind', server.kind);
  return async () => {
    await server.stop();
  };
}
