/**
 * Runs the shell steps of the GitHub Actions workflow in docs/ci.md, as written there, against a
 * local snapshot repository: native git for clone/push/fetch, the built dbsnap binary, and a
 * stand-in `gh` that keeps the pull request's comments in a JSON file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal128 } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadShop } from '../support/shop.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;
const CI_DOC = new URL('../../docs/ci.md', import.meta.url);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: tmpdir(), GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' };
const MARKER = '<!-- dbsnap-diff -->';

/** The `run: |` blocks of the first yaml block of docs/ci.md, dedented. */
export function workflowSteps(markdown: string): string[] {
  const yaml = /```yaml\n([^]*?)```/.exec(markdown)![1]!;
  const lines = yaml.split('\n');
  const steps: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?run: \|$/.exec(lines[i]!);
    if (!m) continue;
    const body: string[] = [];
    let indent = -1;
    for (i++; i < lines.length; i++) {
      const line = lines[i]!;
      const lead = line.length - line.trimStart().length;
      if (line.trim() !== '' && lead <= m[1]!.length) break;
      if (indent < 0 && line.trim() !== '') indent = lead;
      body.push(line.slice(Math.max(indent, 0)));
    }
    i--;
    steps.push(body.join('\n'));
  }
  return steps;
}

// `gh api` as the workflow uses it: list comments (the --jq filter is applied by hand: ids of
// comments starting with the marker), PATCH one, POST one.
const GH_STUB = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.GH_STUB_STATE;
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { comments: [], calls: [] };
const args = process.argv.slice(2);
if (args[0] !== 'api') process.exit(2);
const method = args.includes('--method') ? args[args.indexOf('--method') + 1] : 'GET';
const path = args.find((a, i) => i > 0 && a.startsWith('repos/'));
const field = args.includes('-F') ? args[args.indexOf('-F') + 1] : null;
const body = field ? fs.readFileSync(field.replace(/^body=@/, ''), 'utf8') : null;
state.calls.push(method + ' ' + path);
if (method === 'GET') {
  for (const c of state.comments) if (c.body.startsWith('${MARKER}')) process.stdout.write(c.id + '\\n');
} else if (method === 'PATCH') {
  const id = Number(path.split('/').pop());
  state.comments.find((c) => c.id === id).body = body;
} else {
  state.comments.push({ id: 1000 + state.comments.length, body });
}
fs.writeFileSync(file, JSON.stringify(state));
`;

let tmp = '';
let t: TestDatabase;

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
function dbsnap(cwd: string, ...args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MONGODB_URI: t.dbUri, NO_COLOR: '1' } });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'dbsnap-ci-'));
  t = await useTestDatabase('ci');
  await loadShop(t.db, { totalDocs: 300, seed: 3 });
  dbsnap(tmp, 'init', '--repo', 'origin.git');
  dbsnap(tmp, 'commit', '--repo', 'origin.git', '-m', 'shop');
  await writeFile(join(tmp, 'gh'), GH_STUB);
  await chmod(join(tmp, 'gh'), 0o755);
});

afterAll(async () => {
  await t?.drop();
  await rm(tmp, { recursive: true, force: true });
});

describe('docs/ci.md GitHub workflow', () => {
  it('posts one comment with the data diff and updates it in place on the next push', async () => {
    const steps = workflowSteps(await readFile(CI_DOC, 'utf8'));
    expect(steps).toHaveLength(3);

    // The author's side: a branch with one changed price, pushed.
    git(tmp, 'clone', '--quiet', 'origin.git', 'work');
    const work = join(tmp, 'work');
    dbsnap(work, '--repo', '.', 'switch', '--create', 'data/price-fix');
    const product = await t.db.collection('products').findOne({}, { sort: { _id: 1 } });
    await t.db.collection('products').updateOne({ _id: product!._id }, { $set: { price: Decimal128.fromString('12.34') } });
    dbsnap(work, '--repo', '.', 'commit', '-m', 'fix a price');
    git(work, 'push', '--quiet', '-u', 'origin', 'data/price-fix');

    // The runner: a checkout of the pull request's commit, then the workflow's steps.
    const env = {
      ...GIT_ENV,
      PATH: `${tmp}:${process.env.PATH}`,
      BASE_REF: 'main',
      PR_NUMBER: '7',
      GITHUB_REPOSITORY: 'acme/shop-data',
      GH_TOKEN: 'not-a-token',
      GH_STUB_STATE: join(tmp, 'comments.json'),
      DBSNAP: `${process.execPath} ${BIN}`,
      NO_COLOR: '1',
    };
    const runSteps = (checkout: string, rewrite: (step: string) => string = (s) => s) => {
      for (const step of steps) {
        const r = spawnSync('bash', ['-c', rewrite(step)], { cwd: checkout, env, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`step failed (${r.status}):\n${step}\n${r.stderr}`);
      }
    };
    const checkout = (name: string) => {
      git(tmp, 'clone', '--quiet', '--no-checkout', 'origin.git', name);
      const dir = join(tmp, name);
      git(dir, 'checkout', '--quiet', '--detach', git(work, 'rev-parse', 'HEAD').trim());
      return dir;
    };
    const ci1 = checkout('ci1');
    runSteps(ci1);
    let state = JSON.parse(await readFile(env.GH_STUB_STATE, 'utf8'));
    expect(state.calls).toEqual(['GET repos/acme/shop-data/issues/7/comments', 'POST repos/acme/shop-data/issues/7/comments']);
    expect(state.comments).toHaveLength(1);
    const body: string = state.comments[0].body;
    expect(body.startsWith(`${MARKER}\n### dbsnap diff origin/main`)).toBe(true);
    expect(body).toContain('| `products` | 0 | 0 | 1 |  |\n| **total** | 0 | 0 | 1 | |');
    expect(body).toContain(`- **~** \`ObjectId ${product!._id.toHexString()}\`\n  - \`price\`: `);
    expect(body).toMatch(/→ `[^`]*12\.34`/);
    expect(await readFile(join(ci1, 'dbsnap-diff.md'), 'utf8')).toBe(body);
    // The checkout stays clean: dbsnap wrote nothing into it but the comment file.
    expect(git(ci1, 'status', '--porcelain')).toBe('?? dbsnap-diff.md\n');

    // A second push: the same comment now shows both changes; no second comment.
    const user = await t.db.collection('users').findOne({}, { sort: { _id: 1 } });
    await t.db.collection('users').updateOne({ _id: user!._id }, { $set: { firstName: 'Renamed' } });
    dbsnap(work, '--repo', '.', 'commit', '-m', 'rename a user');
    git(work, 'push', '--quiet');
    runSteps(checkout('ci2'));
    state = JSON.parse(await readFile(env.GH_STUB_STATE, 'utf8'));
    expect(state.calls.slice(2)).toEqual(['GET repos/acme/shop-data/issues/7/comments', 'PATCH repos/acme/shop-data/issues/comments/1000']);
    expect(state.comments).toHaveLength(1);
    expect(state.comments[0].body).toContain('| `users` | 0 | 0 | 1 |');
    expect(state.comments[0].body).toContain('`"Renamed"`');

    // Size-limited: the same diff step with a small --max-chars counts what it left out.
    const ci3 = checkout('ci3');
    runSteps(ci3, (s) => s.replace('--max-chars 60000', '--max-chars 700'));
    const small = await readFile(join(ci3, 'dbsnap-diff.md'), 'utf8');
    expect(small.length).toBeLessThanOrEqual(700 + MARKER.length + 1);
    expect(small).toMatch(/_1 more collections omitted \(output size limit\)\._\n$|_… \d+ more changes omitted \(output size limit\)\._/);

    // main moves on after the branch left it (an order changes there): the comment still shows the
    // branch's own changes only, because the workflow diffs from the merge base (A...B), where
    // A..B would show main's new order as a change the branch reverts.
    git(tmp, 'clone', '--quiet', 'origin.git', 'mainside');
    const mainside = join(tmp, 'mainside');
    const order = await t.db.collection('orders').findOne({}, { sort: { _id: 1 } });
    await t.db.collection('orders').updateOne({ _id: order!._id }, { $set: { status: 'moved-on' } });
    dbsnap(mainside, '--repo', '.', 'commit', '--collections', 'orders', '-m', 'main moves on');
    git(mainside, 'push', '--quiet', 'origin', 'main');
    const ci4 = checkout('ci4');
    runSteps(ci4);
    state = JSON.parse(await readFile(env.GH_STUB_STATE, 'utf8'));
    expect(state.comments).toHaveLength(1);
    const moved: string = state.comments[0].body;
    expect(moved).toContain('| `users` | 0 | 0 | 1 |');
    expect(moved).toContain('| `products` | 0 | 0 | 1 |');
    expect(moved).not.toContain('`orders`');
    expect(moved).not.toContain('moved-on');
    expect(moved).toMatch(/merge base [0-9a-f]{7}/);
    expect(dbsnap(ci4, '--repo', '.', 'diff', 'origin/main..HEAD', '--name-only')).toBe('orders\nproducts\nusers\n');
    expect(dbsnap(ci4, '--repo', '.', 'diff', 'origin/main...HEAD', '--name-only')).toBe('products\nusers\n');
  }, 300_000);
});
