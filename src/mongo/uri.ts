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
  let cs: InstanceType<typeof ConnectionString>;
  try {
    cs = new ConnectionString(uri);
  } catch (err) {
    let why = redactText((err as Error).message.split(uri).join('<uri>'), uri);
    if ((uri.match(/@/g) ?? []).length > 1) why += '; an @, : or / in the user name or password must be percent-encoded (%40, %3A, %2F)';
    throw notAConnectionString(uri, why);
  }
  // The driver accepts `h:1,` or `h:99999` here and then throws from inside its monitor, where
  // no caller can catch it: check every host now.
  for (const host of cs.hosts) {
    if (!host) throw notAConnectionString(uri, 'an empty host name in the host list');
    const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(host);
    if (!m) throw notAConnectionString(uri, `"${host}" is not a host name or [IPv6 address] with an optional port`);
    const port = m[2];
    if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
      throw notAConnectionString(uri, `port "${port}" of ${m[1]} is not a number from 1 to 65535`);
    }
  }
  return cs;
}

function notAConnectionString(uri: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `not a MongoDB connection string: ${redactUri(uri)} (${why}). ` +
      'Expected mongodb://host:port/db or mongodb+srv://cluster/db.',
    { uri: redactUri(uri) },
  );
}

/**
 * Removes user:password@ and any password-like query options from a URI, even a malformed one:
 * a misspelt scheme, leading blanks, no scheme at all, or an unescaped `@`, `/` or `?` in the
 * password (everything up to the last `@` is taken as credentials: showing too little beats
 * showing a password).
 */
export function redactUri(uri: string): string {
  const scheme = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri);
  const start = scheme ? scheme[0].length : 0;
  const at = uri.lastIndexOf('@');
  const withoutUser = at >= start ? `${uri.slice(0, start)}<credentials>@${uri.slice(at + 1)}` : uri;
  return withoutUser.replace(SECRET_OPTIONS, '$1<redacted>');
}

const SECRET_OPTIONS = /([?&](?:password|authMechanismProperties|tlsCertificateKeyFilePassword|tlsCertificateKeyFile|sslPEMKeyPassword)=)[^&\s'"]*/gi;
const ALREADY_MASKED = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/]*:\*+@[^@]*$/;
/** Anything that looks like `scheme://...` in free text (a driver message, a stack trace). */
const URI_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s'"<>`]*/g;

/**
 * The one redaction for text that may quote a connection string: an error message, a driver
 * message, a stack trace. Every `scheme://user:pw@...` in `text` loses its credentials, and
 * where the URI in use is known, its password is removed wherever it appears, raw or decoded
 * (a driver may quote it in a form no pattern recognises).
 *
 * @example
 * redactText('bad uri mongdb://admin:pw@host/db', 'mongdb://admin:pw@host/db') // 'bad uri mongdb://<credentials>@host/db'
 */
export function redactText(text: string, ...knownUris: (string | undefined)[]): string {
  // file:// URLs in stack traces (node_modules/@scope/...) hold no credentials.
  // A password already masked (`user:***@`, as git remote messages show it) is left as written.
  return redactKnown(text, knownUris).replace(URI_IN_TEXT, (u) => (/^file:/i.test(u) || ALREADY_MASKED.test(u) ? u : redactUri(u)));
}

/**
 * Only the known URIs' credentials, wherever they appear: for output that may legitimately hold
 * other `scheme://` strings (documents in a diff), where the general pattern would alter data.
 */
export function redactKnown(text: string, knownUris: (string | undefined)[]): string {
  let out = text;
  for (const uri of knownUris) {
    const trimmed = uri?.trim();
    if (!trimmed) continue;
    if (out.includes(trimmed)) out = out.split(trimmed).join(redactUri(trimmed));
    for (const secret of secretsOf(trimmed)) if (out.includes(secret)) out = out.split(secret).join('<redacted>');
  }
  return out;
}

/**
 * The password (and user:password) of a URI, raw and percent-decoded. Short ones are left to
 * the patterns: replacing every "pw" in a message would garble it without protecting anything.
 */
function secretsOf(uri: string): string[] {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri);
  const start = scheme ? scheme[0].length : 0;
  const at = uri.lastIndexOf('@');
  if (at < start) return [];
  const userinfo = uri.slice(start, at);
  const colon = userinfo.indexOf(':');
  const password = colon === -1 ? '' : userinfo.slice(colon + 1);
  const found = new Set<string>();
  for (const s of [userinfo, password]) {
    for (const v of [s, safeDecode(s)]) if (v.length >= 4) found.add(v);
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
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

/**
 * A host as dbsnap compares it: `Prod.Example.NET.:27017`, `prod.example.net` and
 * `PROD.example.net:27017` are one host; `[::1]` and `0:0::1` are one; the port defaults to
 * 27017. Uses the WHATWG URL host parser (lower case, IDNA, IPv4/IPv6 canonical forms).
 */
export function normalizeHost(hostAndPort: string): { host: string; port: number } {
  let trimmed = hostAndPort.trim();
  // A bare IPv6 address (`::1` in a config) has no port: bracket it so the parser reads it whole.
  if (!trimmed.startsWith('[') && (trimmed.match(/:/g) ?? []).length > 1) trimmed = `[${trimmed}]`;
  try {
    const url = new URL(`http://${trimmed}`);
    const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
    return { host, port: url.port ? Number(url.port) : DEFAULT_PORT };
  } catch {
    // Not a host the URL parser accepts (a pattern like `*.example.net`): compare it as text.
    const m = /^(.*?)(?::(\d+))?$/.exec(trimmed)!;
    return { host: m[1]!.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, ''), port: m[2] ? Number(m[2]) : DEFAULT_PORT };
  }
}

const DEFAULT_PORT = 27017;

/** Lower-cased host names of a URI (without ports), for matching protected hosts. */
export function hostNames(uri: string): string[] {
  return parseUri(uri).hosts.map((h) => normalizeHost(h).host);
}

/**
 * The hosts of `uri` that `patterns` protect. A pattern is a host (`db.example.net`), a host
 * and port (`db.example.net:27018`: that port only) or `*.example.net` (any subdomain); all
 * are compared after normalizeHost, so a trailing dot, upper case, brackets or an explicit
 * default port does not slip past.
 */
export function protectedHostsIn(uri: string, patterns: string[]): string[] {
  const hosts = parseUri(uri).hosts.map(normalizeHost);
  const hits = new Set<string>();
  for (const raw of patterns) {
    const wildcard = raw.trim().startsWith('*.');
    const p = normalizeHost(wildcard ? raw.trim().slice(2) : raw);
    const explicitPort = /:\d+$/.test(raw.trim());
    for (const h of hosts) {
      const nameMatches = wildcard ? h.host.endsWith(`.${p.host}`) : h.host === p.host;
      if (nameMatches && (!explicitPort || h.port === p.port)) hits.add(h.host);
    }
  }
  return [...hits];
}

/**
 * True when every host is on this machine: `localhost`, 127.0.0.0/8, `::1`, or a unix socket
 * (`/tmp/mongodb-27017.sock`). An SRV record never is.
 */
export function isLocalSource(hosts: string[], scheme = 'mongodb'): boolean {
  if (scheme !== 'mongodb' || hosts.length === 0) return false;
  return hosts.every((h) => {
    if (h.startsWith('/') || h.endsWith('.sock')) return true;
    const { host } = normalizeHost(h);
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  });
}
