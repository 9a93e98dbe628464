/**
 * Connection strings: parse, redact, pick the database. Credentials never leave this file in
 * anything dbsnap records or prints: callers get `describeSource()`, which is hosts and database only.
 */
import ConnectionStringModule from 'mongodb-connection-string-url';
import { InvalidArgumentError } from '../errors/index.js';

// The package is CommonJS with a default export object; NodeNext interop differs between tsc and tsx.
const ConnectionString = ((ConnectionStringModule as unknown as { default?: unknown }).default ??
  ConnectionStringModule) as unknown as typeof import('mongodb-connection-string-url').default;

export interface SourceDescription {
  /** Hosts as written in the URI (`mongodb+srv://` shows the SRV name). */
  hosts: string[];
  scheme: 'mongodb' | 'mongodb+srv';
  database: string;
}

/** Parses a MongoDB URI, throwing InvalidArgumentError (with the credentials removed) if it is not one. */
export function parseUri(uri: string): InstanceType<typeof ConnectionString> {
  try {
    return new ConnectionString(uri);
  } catch (err) {
    throw new InvalidArgumentError(
      `not a MongoDB connection string: ${redactUri(uri)} (${(err as Error).message.replace(uri, '<uri>')}). ` +
        'Expected mongodb://host:port/db or mongodb+srv://cluster/db.',
      { uri: redactUri(uri) },
    );
  }
}

/** Removes user:password@ and any password-like query options from a URI, even a malformed one. */
export function redactUri(uri: string): string {
  return uri
    .replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/i, '$1<credentials>@')
    .replace(/([?&](?:password|authMechanismProperties|tlsCertificateKeyFilePassword)=)[^&]*/gi, '$1<redacted>');
}

/** The database named in the URI path, or undefined. */
export function databaseFromUri(uri: string): string | undefined {
  const cs = parseUri(uri);
  const name = decodeURIComponent(cs.pathname.replace(/^\//, ''));
  return name || undefined;
}

/** What dbsnap records about where a snapshot came from: hosts and database, never credentials. */
export function describeSource(uri: string, database: string): SourceDescription {
  const cs = parseUri(uri);
  return { hosts: [...cs.hosts], scheme: cs.isSRV ? 'mongodb+srv' : 'mongodb', database };
}

/** `mongodb://h1,h2/db` form of a SourceDescription, for messages and commit trailers. */
export function formatSource(s: SourceDescription): string {
  return `${s.scheme}://${s.hosts.join(',')}/${s.database}`;
}

/** Lower-cased host names of a URI (without ports), for matching protected hosts. */
export function hostNames(uri: string): string[] {
  return parseUri(uri).hosts.map((h) => h.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase());
}
