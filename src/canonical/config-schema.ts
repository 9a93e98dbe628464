/**
 * The schema of dbsnap.json, the repository config (docs/FORMAT.md, "dbsnap.json"). One place
 * declares every key, its type and its default; `parseConfig` validates with it and
 * docs/dbsnap.schema.json (for editors) is generated from it (`npm run docs`, checked by a test).
 *
 * Unknown keys are refused rather than ignored: a misspelt `protectedhosts` would otherwise
 * silently turn the protected-host guard off.
 */
import { z } from 'zod';
import { ConfigError } from '../errors/index.js';
import type { RepositoryConfig } from './format.js';

const relation = z
  .strictObject({
    from: z.string().regex(/^[^.]+\..+$/, { error: 'expected collection.path, e.g. "orders.userId"' }),
    to: z.string().regex(/^[^.]+\..+$/, { error: 'expected collection.path, e.g. "users._id"' }),
  })
  .meta({ description: 'A reference from one collection to another, e.g. {"from": "orders.userId", "to": "users._id"}.' });

/** dbsnap.json as zod sees it; defaults fill keys an older config lacks. */
export const configSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Where an editor finds this schema; ignored by dbsnap.' }),
    format: z.literal('dbsnap', { error: 'expected "dbsnap"' }).meta({ description: 'Always "dbsnap".' }),
    formatVersion: z.number().int().min(1).default(1).meta({ description: 'Snapshot format version (docs/FORMAT.md).' }),
    sortKeys: z.boolean().default(false).meta({ description: 'Write document keys sorted (never _id values, index keys, validators or pipelines).' }),
    partBits: z.number().int().min(0).max(16).default(5).meta({ description: 'A part file holds 2^partBits documents on average.' }),
    maxPartBytes: z.number().int().min(1024).default(256 * 1024).meta({ description: 'Part files are cut early at this size (bytes).' }),
    exclude: z.array(z.string()).default([]).meta({ description: 'Collections never snapshotted.' }),
    relations: z.array(relation).default([]).meta({ description: 'Declared references, checked by verify and reported by partial restores.' }),
    sensitive: z
      .record(z.string(), z.array(z.string()))
      .default({})
      .meta({ description: 'Fields stored encrypted, per collection: {"users": ["email", "address.phone"]}.' }),
    protectedHosts: z.array(z.string()).default([]).meta({ description: 'Host names restore refuses without --force.' }),
    serverHashes: z
      .boolean()
      .optional()
      .meta({ description: 'Let commit, status, diff and watch ask the server for dbHash (it blocks writes while it runs). Absent: only when the server is on this machine.' }),
    // Last: commit and rekey add it to a config that lacks it, so it has always been written last.
    keyId: z
      .string()
      .regex(/^[0-9a-f]{16}$/, { error: 'expected the 16 lowercase hex characters dbsnap writes itself (commit, rekey); never set it by hand' })
      .optional()
      .meta({ description: 'Id of the key sensitive fields are encrypted with (never the key). Written by dbsnap commit and rekey only.' }),
  })
  .meta({ title: 'dbsnap.json', description: 'The dbsnap snapshot repository config, at the root of every snapshot commit.' });

// The schema and the RepositoryConfig interface must describe the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<z.output<typeof configSchema>, RepositoryConfig> = true;
void sameShape;

/** Keys dbsnap writes itself; `dbsnap config` refuses to change them. */
export const MANAGED_CONFIG_KEYS = ['format', 'formatVersion', 'keyId'] as const;

/** The JSON Schema published as docs/dbsnap.schema.json. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://dbsnap.dev/dbsnap.schema.json',
  };
}

/**
 * Validates parsed dbsnap.json text against the schema, filling defaults.
 *
 * @throws ConfigError (`ECONFIG`) naming `source`, the key's path and the expected shape; `data`
 *   holds `file`, `path` and `expected`.
 */
export function validateConfig(value: unknown, source: string): RepositoryConfig {
  const r = configSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const where = path ? `"${path}"` : 'the top level';
  let expected = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(nodeAt(configSchema, issue.path) ?? {});
    const unknown = issue.keys[0]!;
    const near = known.find((k) => k.toLowerCase() === unknown.toLowerCase());
    const full = [...issue.path.map(String), unknown].join('.');
    throw new ConfigError(
      `${source}: unknown key "${full}"${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${known.join(', ')}. ` +
        'Fix the file (dbsnap config KEY VALUE changes it safely).',
      { file: source, path: full, expected: known },
    );
  }
  if (issue.code === 'invalid_type') expected = `expected ${issue.expected}`;
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length === 2 ? '' : 's'})` : '';
  throw new ConfigError(`${source}: ${where}: ${expected.replace(/^Invalid input: /, '')}${more}.`, { file: source, path, expected });
}

// The keys of the object schema at `path` (for "expected one of ...").
function nodeAt(schema: z.ZodType, path: PropertyKey[]): Record<string, unknown> | undefined {
  let node: z.ZodType | undefined = schema;
  for (const p of path) {
    node = unwrap(node);
    if (node instanceof z.ZodObject) node = node.shape[String(p)] as z.ZodType | undefined;
    else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
    else if (node instanceof z.ZodRecord) node = node.valueType as z.ZodType;
    else return undefined;
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? (node.shape as Record<string, unknown>) : undefined;
}

function unwrap(node: z.ZodType | undefined): z.ZodType | undefined {
  while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
  return node;
}
