/** Fixed identity and clock (so commit ids are assertable), a fresh repository per test, or one with a test database per file. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { init } from '../../src/index.js';
import { useTestDatabase, type TestDatabase } from './test-db.js';

export const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };

/**
 * Before each test: a temp directory holding an initialised snapshot repository (`backup-repo`),
 * handed to `ready`; after each test, the directory is removed.
 */
export function useTempRepository(prefix: string, ready: (r: { dir: string; repo: string }) => unknown): void {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `dbsnap-${prefix}-`));
    const repo = join(dir, 'backup-repo');
    await init({ repo, ...FIXED });
    await ready({ dir, repo });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
}

/**
 * Before the file's tests: a temp directory holding an initialised snapshot repository
 * (`backup-repo`) and the test database `name`, handed to `ready`; after them, the database is
 * dropped and the directory removed.
 */
export function useRepositoryAndDatabase(name: string, ready: (r: { dir: string; repo: string; t: TestDatabase }) => unknown): void {
  let dir = '';
  let t: TestDatabase | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `dbsnap-${name}-`));
    const repo = join(dir, 'backup-repo');
    await init({ repo, ...FIXED });
    t = await useTestDatabase(name);
    await ready({ dir, repo, t });
  });
  afterAll(async () => {
    await t?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}
