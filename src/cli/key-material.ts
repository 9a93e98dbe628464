/**
 * Key material for sensitive fields as the commands take it: a key file (--key-file and the like)
 * or an environment variable. The key itself is never echoed, not even in an error.
 */
import { readFileSync } from 'node:fs';
import type { KeyMaterial } from '../crypto/index.js';
import { InvalidArgumentError } from '../errors/index.js';

/** Reads a key file, with a one-line error naming the file (never its contents). */
export function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, { file });
  }
}

/**
 * The key for sensitive fields: --key-file, else `variable` (DBSNAP_KEY), with its source so that
 * a key error names the one actually used. Never echoed.
 */
export function keyMaterial(args: { keyFile?: string }, env: NodeJS.ProcessEnv, variable = 'DBSNAP_KEY'): KeyMaterial | undefined {
  if (args.keyFile) return { text: readKeyFile(args.keyFile), source: `the key file ${args.keyFile}` };
  const text = env[variable];
  return text ? { text, source: variable } : undefined;
}
