/**
 * After a partial restore: the declared relations from restored collections to ones that were
 * not restored, counted in the target where their references now find nothing.
 */
import type { Manifest, RepositoryConfig } from '../canonical/format.js';
import type { Connection } from '../mongo/connection.js';
import { findDanglingReferences } from '../mongo/writer.js';
import { parseRelationEnd } from './references.js';
import type { RestorePlan } from './restore-plan.js';
import type { DanglingRelation } from './restore-report.js';

export async function danglingReferences(conn: Connection, config: RepositoryConfig, plan: RestorePlan, manifest: Manifest): Promise<DanglingRelation[]> {
  const restored = new Set(plan.collections.map((c) => c.name));
  const known = [...new Set([...Object.keys(manifest.collections), ...plan.untouched, ...restored])];
  const out: DanglingRelation[] = [];
  for (const r of config.relations) {
    const from = parseRelationEnd(r.from, known);
    const to = parseRelationEnd(r.to, known);
    if (!restored.has(from.collection) || restored.has(to.collection)) continue;
    const found = await findDanglingReferences(
      conn,
      { collection: from.collection, path: from.path.join('.') },
      { collection: to.collection, path: to.path.join('.') },
    );
    if (found.dangling > 0) {
      out.push({ relation: `${r.from} -> ${r.to}`, from: r.from, to: r.to, dangling: found.dangling, examples: found.examples });
    }
  }
  return out;
}

