/**
 * Creating a bare repository on disk: which directories may take one, and the files that make
 * it a repository (HEAD last, so an init stopped half-way is recognised and finished later).
 */
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { NotADbsnapRepositoryError } from '../errors/index.js';
import { ensureDir, isErrno, writeFileAtomic } from './files.js';

export const DEFAULT_BRANCH = 'main';

const CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n';

/** Files a directory may hold and still take a new repository: placeholders, nothing of value. */
const PLACEHOLDER = /^(README(\.[A-Za-z]+)?|\.gitkeep|\.keep)$/i;
const HALF_MADE = new Set(['objects', 'refs', 'config']);

async function assertFitForNewRepository(abs: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(abs);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    if (isErrno(err, 'ENOTDIR')) {
      throw new NotADbsnapRepositoryError(`${abs} is a file, not a directory; choose a new or empty directory for --repo.`, { dir: abs, reason: 'file' });
    }
    throw err;
  }
  const others = entries.filter((e) => !PLACEHOLDER.test(e)).sort();
  // What an init stopped half-way (a full disk, kill -9) leaves: HEAD, written last, is missing.
  if (others.every((e) => HALF_MADE.has(e) || e.startsWith('tmp_'))) return;
  const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? `, and ${others.length - 5} more` : '');
  const what = others.includes('.git') ? 'a git work tree' : 'not empty';
  throw new NotADbsnapRepositoryError(
    `${abs} is ${what} and not a dbsnap repository (it holds ${shown}); nothing was created. Choose a new or empty directory with --repo.`,
    { dir: abs, reason: 'not-empty', entries: others.slice(0, 20) },
  );
}

/**
 * Writes a bare repository's directories and files at `abs` (see SnapshotRepository.init).
 * @throws NotADbsnapRepositoryError (ENOTDBSNAP) if `abs` is a file or a non-empty directory.
 */
export async function createBareRepository(abs: string): Promise<void> {
  await assertFitForNewRepository(abs);
  for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) {
    await ensureDir(path.join(abs, sub));
  }
  // The repository directory may exist already (this project tracks backup-repo/ for its
  // README, so a fresh clone has it at 0755): snapshots hold the data, so it becomes owner-only.
  if (process.platform !== 'win32') await fsp.chmod(abs, 0o700);
  await writeFileAtomic(path.join(abs, 'config'), CONFIG);
  // HEAD last: its presence is what makes the directory a repository (for git too).
  await writeFileAtomic(path.join(abs, 'HEAD'), `ref: refs/heads/${DEFAULT_BRANCH}\n`);
}
