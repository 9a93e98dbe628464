// An empty name ('') is a name that git refuses, not "no name": branch, tag and remote refuse it
// with exit 2 and a message that says so, instead of listing or deleting something else.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbsnap } from './support.js';

let dir = '';
let repo = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbsnap-empty-names-'));
  repo = join(dir, 'r');
  expect((await dbsnap(['init', '--repo', repo])).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('empty names', () => {
  it.each([
    [['branch', ''], 'error: invalid branch name "": it is empty.'],
    [['branch', '--delete'], 'error: dbsnap branch --delete needs the name of the branch to delete.'],
    [['tag', ''], 'error: invalid tag name "": it is empty. Choose another name.'],
    [['tag', '-d', ''], 'error: invalid tag name "": it is empty. Choose another name.'],
    [['remote', 'add', '', '/tmp/nowhere'], 'error: invalid remote name "": it is empty.'],
  ])('dbsnap %j is refused, exit 2, nothing listed or written', async (args, message) => {
    const before = readdirSync(join(repo, 'refs', 'heads')).concat(readdirSync(join(repo, 'refs', 'tags')));
    const r = await dbsnap([...args, '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${message}\n`);
    expect(readdirSync(join(repo, 'refs', 'heads')).concat(readdirSync(join(repo, 'refs', 'tags')))).toEqual(before);
  });
});
