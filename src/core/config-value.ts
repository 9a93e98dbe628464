/** The `config` operation: reads, sets or unsets one dbsnap.json key by dotted path (a change is a commit). */
import type { RepositoryConfig } from '../canonical/format.js';
import { configSchema, MANAGED_CONFIG_KEYS } from '../canonical/config-schema.js';
import { ConfigError, InvalidArgumentError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';
import { updateConfig } from './config.js';
import type { Identity } from './progress.js';
import { readHeadConfig } from './snapshot.js';

const CHANGEABLE = Object.keys(configSchema.shape).filter((k) => k !== '$schema' && !(MANAGED_CONFIG_KEYS as readonly string[]).includes(k));

export interface ConfigValueOptions {
  repo: string;
  /** Dotted key (`relations`, `sensitive.users`, `protectedHosts`); none = the whole config. */
  key?: string;
  /** New value (JSON text, or a plain string); absent = read only. */
  value?: string;
  /** Remove the key (`sensitive.users`). */
  unset?: boolean;
  author?: Identity;
  now?: Date;
}

export interface ConfigValueResult {
  key?: string;
  value: unknown;
  /** A commit was made (set/unset that changed something). */
  changed: boolean;
  commit?: string;
}

/**
 * Reads or changes dbsnap.json at HEAD. A change is committed on its own, validated first.
 *
 * @example
 * await configValue({ repo: 'backup-repo', key: 'sensitive.users', value: '["email", "address.phone"]' });
 * await configValue({ repo: 'backup-repo', key: 'protectedHosts', value: '["prod.example.com"]' });
 */
export async function configValue(opts: ConfigValueOptions): Promise<ConfigValueResult> {
  const path = opts.key ? opts.key.split('.') : [];
  if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor')) {
    throw new InvalidArgumentError(`"${opts.key}" is not a config key; keys look like relations or sensitive.users.`);
  }
  if (opts.value === undefined && !opts.unset) {
    const { config } = await readHeadConfig(await SnapshotRepository.open(opts.repo));
    let v: unknown = config;
    for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    return { ...(opts.key ? { key: opts.key } : {}), value: v, changed: false };
  }
  if (path.length === 0) throw new InvalidArgumentError('name the config key to change, e.g. dbsnap config sensitive.users \'["email"]\'.');
  if ((MANAGED_CONFIG_KEYS as readonly string[]).includes(path[0]!)) {
    throw new ConfigError(
      `${path[0]} is written by dbsnap itself${path[0] === 'keyId' ? ' (commit records the key in use, rekey changes it)' : ''}; ` +
        'setting it by hand could make the snapshots at HEAD unreadable. Nothing was changed.',
      { path: opts.key, expected: 'a key dbsnap config may change: ' + CHANGEABLE.join(', ') },
    );
  }
  let parsed: unknown;
  if (!opts.unset) {
    try {
      parsed = JSON.parse(opts.value!);
    } catch {
      parsed = opts.value; // a bare string
    }
  }
  const r = await updateConfig({
    repo: opts.repo,
    author: opts.author,
    now: opts.now,
    message: `dbsnap config: ${opts.unset ? `unset ${opts.key}` : `set ${opts.key}`}`,
    change: (cfg: RepositoryConfig) => {
      let node = cfg as unknown as Record<string, unknown>;
      for (const p of path.slice(0, -1)) {
        if (node[p] === undefined) node[p] = {};
        if (typeof node[p] !== 'object' || node[p] === null) {
          throw new InvalidArgumentError(`config key ${opts.key}: ${p} is not an object.`);
        }
        node = node[p] as Record<string, unknown>;
      }
      const last = path[path.length - 1]!;
      if (opts.unset) delete node[last];
      else node[last] = parsed;
      return cfg;
    },
  });
  let v: unknown = r.config;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return { key: opts.key, value: v, changed: r.changed, commit: r.commit };
}
