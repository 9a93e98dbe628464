/** A commit's message: a readable first line, then git trailers a script can parse. */
import type { CommittedCollection } from './commit.js';
import { DBSNAP_VERSION } from './version.js';

export interface MessageFacts {
  database: string;
  source: string;
  server: string;
  pointInTime: boolean;
  clusterTime?: string;
  /** Overrides the Dbsnap-Read trailer (an import reads no server). */
  read?: string;
  collections: Pick<CommittedCollection, 'name' | 'changed'>[];
  documents: number;
  durationMs: number;
}

/** A readable first line, then git trailers a script can parse (`git interpret-trailers`). */
export function commitMessage(subject: string | undefined, f: MessageFacts): string {
  const changed = f.collections.filter((c) => c.changed).map((c) => c.name);
  const first =
    subject?.trim().split('\n')[0] ||
    `Snapshot of ${f.database}: ${f.collections.length} collection${f.collections.length === 1 ? '' : 's'}, ${f.documents.toLocaleString('en-US')} document${f.documents === 1 ? '' : 's'}`;
  const body = subject?.trim().split('\n').slice(1).join('\n').trim();
  const trailers = [
    `Dbsnap-Database: ${f.database}`,
    `Dbsnap-Source: ${f.source}`,
    `Dbsnap-Server: ${f.server}`,
    `Dbsnap-Read: ${f.read ? f.read : f.pointInTime ? `point-in-time${f.clusterTime ? ` at cluster time ${f.clusterTime}` : ''}` : 'not point-in-time (standalone server)'}`,
    `Dbsnap-Collections: ${f.collections.length}`,
    `Dbsnap-Documents: ${f.documents}`,
    `Dbsnap-Changed: ${changed.length ? changed.join(', ') : '(none)'}`,
    `Dbsnap-Version: ${DBSNAP_VERSION}`,
    `Dbsnap-Duration-Ms: ${f.durationMs}`,
  ];
  return `${first}\n\n${body ? `${body}\n\n` : ''}${trailers.join('\n')}\n`;
}
