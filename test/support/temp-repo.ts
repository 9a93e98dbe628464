/** Fixed identity and clock (so commit ids are assertable) and a fresh repository per test. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { init } from '../../src/index.js';

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
