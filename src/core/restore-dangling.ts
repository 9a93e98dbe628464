/**
 * After a partial restore: the declared relations from restored collections to ones that were
 * not restored, counted in the target where their references now find nothing. Values are matched
 * with the same type-exact keys as verify's snapshot check (references.ts `referenceKey`).
 */
import type { Manifest, RepositoryConfig } from '../canonical/format.js';
import type { Connection } from '../mongo/connection.js';
import { distinctValues, documentsHolding } from '../mongo/writer.js';
import { parseRelationEnd, referenceKey, type RelationEnd } from './references.js';
import type { RestorePlan } from './restore-plan.js';
import type { DanglingRelation } from './restore-report.js';

/** Values are looked up and counted in chunks, so no query grows past the server's limits. */
const CHUNK = 1000;

export async function danglingReferences(conn: Connection, config: RepositoryConfig, plan: RestorePlan, manifest: Manifest): Promise<DanglingRelation[]> {
  const restored = new Set(plan.collections.map((c) => c.name));
  const known = [...new Set([...Object.keys(manifest.collections), ...plan.untouched, ...restored])];
  const out: DanglingRelation[] = [];
  for (const r of config.relations) {
    const from = parseRelationEnd(r.from, known);
    const to = parseRelationEnd(r.to, known);
    if (!restored.has(from.collection) || restored.has(to.collection)) continue;
    const found = await danglingInTarget(conn, from, to);
    if (found.dangling > 0) {
      out.push({ relation: `${r.from} -> ${r.to}`, from: r.from, to: r.to, dangling: found.dangling, examples: found.examples });
    }
  }
  return out;
}

/**
 * Of the distinct values at `from` (array elements descended into, as MongoDB paths do), those
 * that no document of `to` has, found by server-side queries; returns how many referencing
 * documents hold one and a few of their `_id`s.
 */
async function danglingInTarget(conn: Connection, from: RelationEnd, to: RelationEnd, examples = 5): Promise<{ dangling: number; examples: unknown[] }> {
  const fromPath = from.path.join('.');
  const toPath = to.path.join('.');
  const values = (await distinctValues(conn, from.collection, fromPath)).filter((v) => v !== null && v !== undefined);
  const missing: unknown[] = [];
  for (let i = 0; i < values.length; i += CHUNK) {
    const chunk = values.slice(i, i + CHUNK);
    const present = new Set((await distinctValues(conn, to.collection, toPath, { [toPath]: { $in: chunk } })).map(referenceKey));
    for (const v of chunk) if (!present.has(referenceKey(v))) missing.push(v);
  }
  let dangling = 0;
  const ids: unknown[] = [];
  for (let i = 0; i < missing.length; i += CHUNK) {
    const found = await documentsHolding(conn, from.collection, fromPath, missing.slice(i, i + CHUNK), examples - ids.length);
    dangling += found.count;
    ids.push(...found.ids);
  }
  return { dangling, examples: ids };
}
