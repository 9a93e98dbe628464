/**
 * Snapshots hold a database's data, so a repository readable by other users is worth a warning;
 * this finds the entries that are (POSIX permission bits; nothing to check on Windows).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Entries of the repository directory readable or writable by group or others (POSIX only). */
export async function permissionWarnings(dir: string): Promise<string[]> {
  if (process.platform === 'win32') return [];
  const loose: string[] = [];
  let count = 0;
  const visit = async (p: string, rel: string) => {
    const st = await fsp.lstat(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) {
      count++;
      if (loose.length < 3) loose.push(`${rel || '.'} (${(st.mode & 0o777).toString(8).padStart(4, '0')})`);
    }
    // Nothing below a directory closed to group and others can be reached by them.
    if (st.isDirectory() && (st.mode & 0o077) !== 0) {
      for (const name of await fsp.readdir(p)) await visit(path.join(p, name), rel ? `${rel}/${name}` : name);
    }
  };
  await visit(dir, '');
  if (count === 0) return [];
  return [
    `${count} entr${count === 1 ? 'y' : 'ies'} of the repository ${dir} ${count === 1 ? 'is' : 'are'} accessible to other users ` +
      `(e.g. ${loose.join(', ')}); snapshots hold your data: run chmod -R go-rwx ${dir}`,
  ];
}
