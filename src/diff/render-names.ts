/** The `--name-only` / `--name-status` renderer: changed collections one per line, as git lists files. */
import type { CollectionStatus, SnapshotDiff } from './types.js';

const LETTER: Record<Exclude<CollectionStatus, 'unchanged'>, string> = { added: 'A', removed: 'D', changed: 'M' };

/**
 * The changed collections, one per line, as `git diff --name-only` lists files; with
 * `status: true`, each prefixed by A (new), M (changed) or D (dropped) and a tab, as
 * `--name-status` does. Unchanged collections are left out; nothing changed gives ''.
 *
 * @example
 * renderNames(d, { status: true }) // "M\torders\nA\treviews\n"
 */
export function renderNames(d: SnapshotDiff, opts: { status?: boolean } = {}): string {
  return d.collections
    .filter((c) => c.status !== 'unchanged')
    .map((c) => (opts.status ? `${LETTER[c.status as keyof typeof LETTER]}\t${c.name}\n` : `${c.name}\n`))
    .join('');
}
