/**
 * A commit as every history view reports it (log, show, log --doc, blame): hash, ISO date,
 * `Name <email>`, subject, and the `Dbsnap-*` trailers commit writes. One formatter, so the views agree.
 */
import type { CommitInfo } from '../store/index.js';

/** The fields log, show and document history share for one commit. */
export interface CommitSummary {
  commit: string;
  /** Author date, ISO 8601 in UTC. */
  date: string;
  /** `Name <email>`, as git prints an author. */
  author: string;
  /** The first line of the message. */
  subject: string;
}

/**
 * The summary of one commit.
 *
 * @example
 * commitSummary(c) // { commit: '1a2b...', date: '2026-01-02T03:04:05.000Z', author: 'dbsnap <dbsnap@localhost>', subject: 'nightly' }
 */
export function commitSummary(c: CommitInfo): CommitSummary {
  return {
    commit: c.oid,
    date: new Date(c.author.timestamp * 1000).toISOString(),
    author: `${c.author.name} <${c.author.email}>`,
    subject: c.message.split('\n')[0] ?? '',
  };
}

/** Parses the `Dbsnap-*` trailers of a commit message (the keys without the prefix). */
export function parseTrailers(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of message.split('\n')) {
    const m = /^Dbsnap-([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
