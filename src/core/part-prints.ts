/**
 * A local, uncommitted record of the parts the last read of each collection made, kept inside the
 * repository's git directory (`dbsnap/prints-<sha1 of the name>.bin`): per part, its name, the
 * SHA-256 and length of the BSON bytes of its documents as read, and the stored file that came
 * out of them (blob id, length, SHA-256, the cutter's size). The next commit takes a part whose
 * documents arrive with the same bytes from the object store instead of encoding them again
 * (encodeCollection's `known`). A stored file is checked against the SHA-256 recorded of it before
 * it is used, and a part that does not match is encoded: deleting or damaging the record costs
 * time, never correctness.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EncodedPart, KnownPart, KnownParts } from '../canonical/encode-collection.js';
import { createSha1 } from '../crypto/hash.js';
import { ensureDir, writeFileAtomic, type SnapshotRepository } from '../store/index.js';
import { DBSNAP_VERSION } from './version.js';

const MAGIC = 'dbsnap part prints 1\n';
/** name (zero-padded), documents, units, raw bytes, bytes, raw SHA-256, SHA-256, blob id. */
const NAME = 40;
const RECORD = NAME + 4 + 8 + 8 + 8 + 32 + 32 + 20;
/** How far past the last part found a name is looked for (parts come in the order they were cut). */
const WINDOW = 256;

function printsFile(repoDir: string, collection: string): string {
  return join(repoDir, 'dbsnap', `prints-${createSha1().update(collection).digestHex()}.bin`);
}

/**
 * The header: which collection, under which encoding settings (configDigest), by which dbsnap (a
 * record another version wrote is not used: its writer may have written other text).
 */
function header(collection: string, config: string): Buffer {
  return Buffer.from(`${MAGIC}${JSON.stringify({ collection, config, dbsnap: DBSNAP_VERSION })}\n`, 'utf8');
}

/** No known parts: every part is encoded. */
const NONE: KnownParts = { find: () => undefined };

/**
 * The parts recorded for `collection` under the settings `config` (configDigest), their files
 * read from `repo`; none when there is no record, or it is for other settings or unreadable.
 */
export async function readKnownParts(repo: SnapshotRepository, collection: string, config: string): Promise<KnownParts> {
  let data: Buffer;
  try {
    data = await readFile(printsFile(repo.dir, collection));
  } catch {
    return NONE;
  }
  const head = header(collection, config);
  if (data.length < head.length || !data.subarray(0, head.length).equals(head) || (data.length - head.length) % RECORD !== 0) return NONE;
  const body = data.subarray(head.length);
  const count = body.length / RECORD;
  let from = 0;
  const at = (i: number): KnownPart => {
    const r = body.subarray(i * RECORD, (i + 1) * RECORD);
    const end = r.indexOf(0);
    const id = r.toString('hex', RECORD - 20, RECORD);
    return {
      name: r.toString('latin1', 0, end < 0 || end > NAME ? NAME : end),
      documents: r.readUInt32LE(NAME),
      units: r.readDoubleLE(NAME + 4),
      raw: { bytes: r.readDoubleLE(NAME + 12), sha256: r.toString('hex', NAME + 28, NAME + 60) },
      bytes: r.readDoubleLE(NAME + 20),
      sha256: r.toString('hex', NAME + 60, NAME + 92),
      id,
      load: () => repo.readBlob(id),
    };
  };
  return {
    find(name) {
      const key = Buffer.alloc(NAME);
      if (key.write(name, 'latin1') !== name.length || name.length >= NAME) return undefined;
      for (let i = from; i < count && i < from + WINDOW; i++) {
        if (body.compare(key, 0, NAME, i * RECORD, i * RECORD + NAME) === 0) {
          from = i + 1;
          return at(i);
        }
      }
      return undefined;
    },
  };
}

/** Collects a collection's parts as they are written, then replaces its record (save). */
export class PartPrintWriter {
  private records = Buffer.allocUnsafeSlow(64 * RECORD);
  private count = 0;
  /** How many of the parts added were taken as stored (EncodedPart.reused). */
  reused = 0;
  /** False once a part could not be recorded: save then removes nothing and writes nothing. */
  private complete = true;

  constructor(
    private readonly repo: SnapshotRepository,
    private readonly collection: string,
    private readonly config: string,
  ) {}

  /** Records a part written as blob `oid` (a part without `raw` leaves the record incomplete). */
  add(part: EncodedPart, oid: string): void {
    if (part.reused) this.reused++;
    if (!part.raw || part.name.length >= NAME) {
      this.complete = false;
      return;
    }
    if ((this.count + 1) * RECORD > this.records.length) {
      const more = Buffer.allocUnsafeSlow(this.records.length * 2);
      this.records.copy(more, 0, 0, this.count * RECORD);
      this.records = more;
    }
    const r = this.records.subarray(this.count * RECORD, ++this.count * RECORD);
    r.fill(0, 0, NAME);
    r.write(part.name, 0, 'latin1');
    r.writeUInt32LE(part.documents, NAME);
    r.writeDoubleLE(part.units, NAME + 4);
    r.writeDoubleLE(part.raw.bytes, NAME + 12);
    r.writeDoubleLE(part.bytes, NAME + 20);
    r.write(part.raw.sha256, NAME + 28, 32, 'hex');
    r.write(part.sha256, NAME + 60, 32, 'hex');
    r.write(oid, NAME + 92, 20, 'hex');
  }

  /** Replaces the collection's record with the parts added (through a temp file). */
  async save(): Promise<void> {
    if (!this.complete) return;
    await ensureDir(join(this.repo.dir, 'dbsnap'));
    await writeFileAtomic(printsFile(this.repo.dir, this.collection), Buffer.concat([header(this.collection, this.config), this.records.subarray(0, this.count * RECORD)]));
  }
}
