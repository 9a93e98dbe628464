import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { updateConfig } from '../../src/core/config.js';
import { readHeadConfig } from '../../src/core/snapshot.js';
import { SnapshotRepository } from '../../src/store/index.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };

let dir: string;
let repo: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-relations-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('updateConfig', () => {
  it('commits dbsnap.json with the change on top of HEAD, keeping every other file', async () => {
    const r = await SnapshotRepository.open(repo);
    const before = (await r.head()).oid!;
    const filesBefore = await r.listFiles(before);
    const res = await updateConfig({
      repo,
      change: (cfg) => ({ ...cfg, relations: [{ from: 'orders.userId', to: 'users._id' }] }),
      message: 'declare a relation',
      ...FIXED,
    });
    expect(res.changed).toBe(true);
    const head = await r.head();
    expect(head.oid).toBe(res.commit);
    const c = await r.readCommit(res.commit);
    expect(c.parents).toEqual([before]);
    expect(c.message).toBe('declare a relation');
    expect((await readHeadConfig(r)).config.relations).toEqual([{ from: 'orders.userId', to: 'users._id' }]);
    const filesAfter = await r.listFiles(res.commit);
    expect([...filesAfter.keys()].sort()).toEqual([...filesBefore.keys()].sort());
    expect(filesAfter.get('.gitattributes')).toBe(filesBefore.get('.gitattributes'));
    expect(filesAfter.get('dbsnap.json')).not.toBe(filesBefore.get('dbsnap.json'));

    const again = await updateConfig({ repo, change: (cfg) => cfg, message: 'nothing', ...FIXED });
    expect(again).toMatchObject({ changed: false, commit: res.commit });
  });

  it('refuses an invalid config without committing', async () => {
    const r = await SnapshotRepository.open(repo);
    const before = (await r.head()).oid;
    await expect(
      updateConfig({ repo, change: (cfg) => ({ ...cfg, relations: [{ from: 'nodot', to: 'users._id' }] }), message: 'bad', ...FIXED }),
    ).rejects.toMatchObject({ code: 'EINVALIDARG' });
    expect((await r.head()).oid).toBe(before);
  });
});
