/**
 * `dbsnap log --format`: git's pretty-format placeholders (git-log(1), "PRETTY FORMATS") over a
 * LogEntry, plus the snapshot counts git does not have. Unknown placeholders are kept as written,
 * as git does.
 */
import type { LogEntry } from '../core/index.js';

/** Placeholders `--format` understands (also listed in `dbsnap log --help`). */
export const FORMAT_PLACEHOLDERS: Record<string, string> = {
  '%H': 'commit hash',
  '%h': 'abbreviated commit hash (7)',
  '%s': 'subject',
  '%b': 'body',
  '%B': 'raw message',
  '%an': 'author name',
  '%ae': 'author email',
  '%ad': 'author date (ISO 8601)',
  '%aI': 'author date, strict ISO 8601',
  '%at': 'author date, UNIX timestamp',
  '%d': 'ref names, like " (tag: v1, main)"',
  '%D': 'ref names without wrapping',
  '%n': 'newline',
  '%%': 'a raw %',
  '%(documents)': 'documents in the snapshot',
  '%(collections)': 'collections in the snapshot',
  '%(database)': 'database the snapshot was taken from',
};

/**
 * `tag: v1, dbsnap/safety/...`: tags first, then other refs by short name. Branches only with
 * `branches` (log --all, %d), since the plain log walks one branch anyway.
 */
export function decorations(e: LogEntry, opts: { branches?: boolean } = {}): string {
  const refs = e.refs.filter((r) => opts.branches || !r.startsWith('refs/heads/')).map((r) => r.replace(/^refs\/(heads\/|remotes\/)?/, ''));
  return [...e.tags.map((t) => `tag: ${t}`), ...refs].join(', ');
}

/**
 * One entry through a format string.
 *
 * @example
 * formatEntry(e, '%h %s') // "1a2b3c4 nightly"
 */
export function formatEntry(e: LogEntry, format: string): string {
  const name = e.author.replace(/\s*<[^>]*>$/, '');
  const email = /<([^>]*)>$/.exec(e.author)?.[1] ?? '';
  const body = e.message.split('\n').slice(1).join('\n').replace(/^\n+/, '').replace(/\n+$/, '');
  const d = decorations(e, { branches: true });
  const values: Record<string, string> = {
    '%H': e.commit,
    '%h': e.commit.slice(0, 7),
    '%s': e.subject,
    '%b': body,
    '%B': e.message.replace(/\n+$/, ''),
    '%an': name,
    '%ae': email,
    '%ad': e.date,
    '%aI': e.date,
    '%at': String(Math.floor(Date.parse(e.date) / 1000)),
    '%d': d ? ` (${d})` : '',
    '%D': d,
    '%n': '\n',
    '%%': '%',
    '%(documents)': e.documents === undefined ? '' : String(e.documents),
    '%(collections)': e.collections === undefined ? '' : String(e.collections),
    '%(database)': e.database ?? '',
  };
  return format.replace(/%\([a-z]+\)|%a[neIdt]|%[HhsbBdDn%]/g, (m) => values[m] ?? m);
}
