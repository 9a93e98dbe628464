/**
 * Control characters in names (collections, databases, tags from a hand-edited repository) are
 * printed escaped in every human line, never raw; --json keeps them exact (issue #10).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/printable.js';
import { useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { dbsnap } from './support.js';

// Retitles the terminal, clears the screen, and reverses the text after it.
const EVIL = 'evil\x1b]0;owned\x07\x1b[2J\u202e';
const SHOWN = 'evil\\x1b]0;owned\\x07\\x1b[2J\\u202e';
let repo = '';
let t: TestDatabase;

useRepositoryAndDatabase('control', async (s) => {
  ({ repo, t } = s);
  await t.db.collection(EVIL).insertOne({ _id: 1 });
  await t.db.collection('users').insertOne({ _id: 1 });
});

/** No raw control character but newline (and no colour: not a terminal). */
function expectNoRawControl(s: string): void {
  expect(s).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
}

describe('control characters in names', () => {
  it('the helper escapes controls, keeps newline and tab unless one line is asked for', () => {
    expect(printable(EVIL)).toBe(SHOWN);
    expect(printable('a\tb\nc\rd\x7f\x9b')).toBe('a\tb\nc\\x0dd\\x7f\\x9b');
    expect(printable('a\nb', { oneLine: true })).toBe('a\\x0ab');
  });

  it('commit, status, log and an error print them escaped; --json keeps them exact', async () => {
    const commit = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri]);
    expect(commit.code).toBe(0);
    expect(commit.stdout).toContain(` A ${SHOWN}: 1 documents in 1 part`);
    expectNoRawControl(commit.stdout + commit.stderr);

    const json = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '--json', '--allow-empty']);
    expect(JSON.parse(json.stdout).collections.map((c: { name: string }) => c.name)).toEqual([EVIL, 'users']);

    await t.db.collection(EVIL).insertOne({ _id: 2 });
    const status = await dbsnap(['status', '--repo', repo, '--uri', t.dbUri]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(SHOWN);
    expectNoRawControl(status.stdout + status.stderr);

    // A tag written into the repository by hand (git itself refuses such names).
    const head = (await dbsnap(['log', '--repo', repo, '--format', '%H', '-n', '1'])).stdout.trim();
    await writeFile(join(repo, 'refs', 'tags', `v1${EVIL}`), `${head}\n`);
    const log = await dbsnap(['log', '--repo', repo]);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain(`v1${SHOWN}`);
    expectNoRawControl(log.stdout + log.stderr);

    const err = await dbsnap(['restore', 'HEAD', '--yes', '--repo', repo, '--uri', t.dbUri, '--collections', `nosuch\x1b[2J\nforged line`]);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^error: [^\n]*nosuch\\x1b\[2J\\x0aforged line[^\n]*\n$/);
    expectNoRawControl(err.stderr);
    const errJson = await dbsnap(['restore', 'HEAD', '--yes', '--json', '--repo', repo, '--uri', t.dbUri, '--collections', `nosuch\x1b[2J`]);
    expect(JSON.parse(errJson.stdout).error.message).toContain('nosuch\x1b[2J');
  });
});

describe('control characters in names with colour on (FORCE_COLOR=1)', () => {
  // A colour code (blink, red) and a reset inside the name: with colour on, they must not pass as dbsnap's own.
  const PAINTED = 'paint\x1b[5m\x1b[31mblink\x1b[0m';
  const PAINTED_SHOWN = 'paint\\x1b[5m\\x1b[31mblink\\x1b[0m';
  const COLOUR = { FORCE_COLOR: '1' };
  let crepo = '';
  let ct: TestDatabase;
  useRepositoryAndDatabase('colour', async (s) => {
    ({ repo: crepo, t: ct } = s);
    await ct.db.collection(PAINTED).insertOne({ _id: 1 });
  });

  /** Every ESC is one of dbsnap's colours (SGR 1, 2, 22, 31-39) and the name is shown escaped. */
  function expectOnlyOwnColour(s: string): void {
    expect(s).toContain(PAINTED_SHOWN);
    expect(s).not.toContain('\x1b[5m');
    expect(s).not.toContain('\x1b[0m');
    expect(s.replace(/\x1b\[(?:1|2|22|3[1-9])m/g, '')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  }

  it('commit, log (a tag painted by dbsnap), diff and errors escape the name and keep their own colour; --json stays exact', async () => {
    const commit = await dbsnap(['commit', '--repo', crepo, '--uri', ct.dbUri, '-m', 'one'], { env: COLOUR });
    expect(commit.code, commit.stderr).toBe(0);
    // Colour is on: the status letter is dbsnap's green.
    expect(commit.stdout).toContain(`\x1b[32mA\x1b[39m ${PAINTED_SHOWN}: 1 documents`);
    expectOnlyOwnColour(commit.stdout);

    const head = (await dbsnap(['log', '--repo', crepo, '--format', '%H', '-n', '1'])).stdout.trim();
    await writeFile(join(crepo, 'refs', 'tags', `v1${PAINTED}`), `${head}\n`);
    const log = await dbsnap(['log', '--repo', crepo], { env: COLOUR });
    expect(log.code).toBe(0);
    // The tag is coloured by dbsnap (cyan) and escaped inside it.
    expect(log.stdout).toContain(`\x1b[36m(tag: v1${PAINTED_SHOWN}`);
    expectOnlyOwnColour(log.stdout);

    await ct.db.collection(PAINTED).insertOne({ _id: 2, [`f\x1b[5m`]: `v\x1b[0m` });
    await dbsnap(['commit', '--repo', crepo, '--uri', ct.dbUri, '-m', 'two']);
    const diff = await dbsnap(['diff', 'HEAD~1', 'HEAD', '--repo', crepo], { env: COLOUR });
    expect(diff.code, diff.stderr).toBe(0);
    expectOnlyOwnColour(diff.stdout);
    expect(diff.stdout).toMatch(/\x1b\[3\dm/);

    const err = await dbsnap(['restore', 'HEAD', '--yes', '--repo', crepo, '--uri', ct.dbUri, '--collections', `nosuch\x1b[5m`], { env: COLOUR });
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('nosuch\\x1b[5m');
    expect(err.stderr).not.toContain('\x1b[5m');

    const json = await dbsnap(['log', '--repo', crepo, '--json'], { env: COLOUR });
    expect(json.stdout).toContain(JSON.stringify(`v1${PAINTED}`).slice(1, -1));
  });
});
