/** dbsnap.json is validated by its schema: through `dbsnap config` and on every read of a hand-made one. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/canonical/config-schema.js';
import { CONFIG_FILE, metadataText } from '../../src/canonical/format.js';
import { init, log } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { dbsnapBinary } from './binary.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
let dir = '';
let repo = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-config-schema-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Commits a dbsnap.json edited by hand (as a user with git could), returning the commit. */
async function commitConfigByHand(edit: (cfg: Record<string, unknown>) => void): Promise<string> {
  const r = await SnapshotRepository.open(repo);
  const head = (await r.head()).oid!;
  const cfg = JSON.parse((await r.readFile(head, CONFIG_FILE))!.toString('utf8')) as Record<string, unknown>;
  edit(cfg);
  const files = await r.listFiles(head);
  const tree = [...files].filter(([p]) => p !== CONFIG_FILE).map(([path, oid]) => ({ path, oid }));
  tree.push({ path: CONFIG_FILE, oid: await r.writeBlob(metadataText(cfg)) });
  const commit = await r.writeCommit({
    tree: await r.writeTree(tree),
    parents: [head],
    message: 'edited by hand\n',
    author: { ...FIXED.author, timestamp: 1735787045, timezoneOffset: 0 },
  });
  await r.updateRef('refs/heads/main', commit, head);
  return commit;
}

const errorOf = (stdout: string) => (JSON.parse(stdout) as { error: { code: string; message: string } }).error;

describe('dbsnap.json schema', () => {
  it('dbsnap config refuses an unknown key, a wrong type and keyId, naming the path and the expected shape; nothing is committed', async () => {
    const before = (await log({ repo })).length;
    const typo = await dbsnapBinary(['config', 'protectedhosts', '["prod.example.com"]', '--repo', repo, '--json']);
    expect(typo.code).toBe(2);
    expect(errorOf(typo.stdout).code).toBe('ECONFIG');
    expect(errorOf(typo.stdout).message).toMatch(/unknown key "protectedhosts" \(did you mean "protectedHosts"\?\); expected one of .*protectedHosts/);

    const wrongType = await dbsnapBinary(['config', 'partBits', '"five"', '--repo', repo]);
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toMatch(/^error: new dbsnap.json: "partBits": expected number/);

    const nested = await dbsnapBinary(['config', 'relations', '[{"from":"orders.userId","to":"users._id","kind":"x"}]', '--repo', repo, '--json']);
    expect(errorOf(nested.stdout)).toMatchObject({ code: 'ECONFIG' });
    expect(errorOf(nested.stdout).message).toContain('unknown key "relations.0.kind"; expected one of from, to');

    const keyId = await dbsnapBinary(['config', 'keyId', '0123456789abcdef', '--repo', repo, '--json']);
    expect(errorOf(keyId.stdout).code).toBe('ECONFIG');
    expect(errorOf(keyId.stdout).message).toMatch(/^keyId is written by dbsnap itself/);

    expect((await log({ repo })).length).toBe(before);
    const ok = await dbsnapBinary(['config', 'protectedHosts', '["prod.example.com"]', '--repo', repo]);
    expect(ok.code).toBe(0);
  }, 300_000);

  it('a hand-edited dbsnap.json with an unknown key or a malformed keyId is refused wherever it is read', async () => {
    await commitConfigByHand((c) => (c.protectedhosts = ['prod.example.com']));
    const show = await dbsnapBinary(['config', '--repo', repo, '--json']);
    expect(show.code).toBe(2);
    expect(errorOf(show.stdout)).toEqual({
      code: 'ECONFIG',
      message: expect.stringContaining(`${repo}/dbsnap.json: unknown key "protectedhosts" (did you mean "protectedHosts"?)`),
    });
    await commitConfigByHand((c) => {
      delete c.protectedhosts;
      c.keyId = 'my-key';
    });
    const r = await dbsnapBinary(['config', 'keyId', '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dbsnap.json: "keyId": expected the 16 lowercase hex characters dbsnap writes itself');
  }, 300_000);

  it('is published as docs/dbsnap.schema.json, generated from the code (npm run docs)', async () => {
    const published = JSON.parse(await readFile(new URL('../../docs/dbsnap.schema.json', import.meta.url), 'utf8'));
    expect(published, 'docs/dbsnap.schema.json is stale: run npm run docs').toEqual(configJsonSchema());
    expect(published.additionalProperties).toBe(false);
    expect(Object.keys(published.properties)).toContain('protectedHosts');
  }, 300_000);
});
