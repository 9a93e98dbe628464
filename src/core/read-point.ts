/**
 * A local, uncommitted record of the cluster time the last commit read at, and which part files
 * each collection had then (docs/FORMAT.md, `dbsnap/read-point.json`). With it, a commit on a
 * replica set or sharded cluster asks a change stream "any write since then?" instead of reading
 * or hashing the data. Deleting it costs one full read (or dbHash, where that is allowed), never
 * correctness: a collection is taken from HEAD only when HEAD still holds exactly the parts
 * recorded here, written with the same encoding settings, from the same source.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../store/index.js';

export interface ReadPoint {
  /** `mongodb://hosts/db` (formatSource): a cluster time means nothing on another deployment. */
  source: string;
  /** The cluster time of the read, `T.I` (as in the Dbsnap-Read trailer). */
  clusterTime: string;
  /** configDigest of the settings the parts were encoded with. */
  config: string;
  /** Collection -> partsFingerprint of its part files as of `clusterTime`. */
  collections: Record<string, string>;
}

const FILE = join('dbsnap', 'read-point.json');

export async function readReadPoint(repoDir: string): Promise<ReadPoint | null> {
  try {
    const r = JSON.parse(await readFile(join(repoDir, FILE), 'utf8')) as ReadPoint;
    return typeof r?.clusterTime === 'string' && typeof r.source === 'string' && r.collections ? r : null;
  } catch {
    return null;
  }
}

export async function writeReadPoint(repoDir: string, point: ReadPoint): Promise<void> {
  await ensureDir(join(repoDir, 'dbsnap'));
  await writeFileAtomic(join(repoDir, FILE), JSON.stringify(point));
}
