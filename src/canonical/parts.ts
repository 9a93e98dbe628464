/**
 * Cutting a collection's `_id`-ordered document stream into part files (docs/FORMAT.md, "Parts").
 *
 * A document starts a new part when a hash of its `_id` text has its low `partBits` bits all zero
 * (content-defined chunking). Boundaries therefore depend only on the `_id`s at the boundary:
 * inserting or deleting a document elsewhere never moves them, so one changed document rewrites
 * one part and part names (derived from the `_id` that starts the part) stay put. A part that
 * outgrows `maxPartBytes` is cut early so no file gets too large for a reviewer's diff view.
 */
import { createSha1 } from '../crypto/hash.js';

export interface PartCutterOptions {
  /** Average part holds 2^partBits documents. */
  partBits: number;
  /** A part is cut early once its text reaches this many bytes (approximately, in UTF-16 units). */
  maxPartBytes: number;
}

export interface CutPart {
  /** File name without directory, e.g. `first.json` or `3fa9c2d1e0b4.json`. */
  name: string;
  /** Number of documents in the part. */
  documents: number;
  /** idText of the first document. */
  firstId: string;
}

/** FNV-1a over UTF-16 code units with a murmur3 finaliser: cheap, stable on every platform. */
export function idBoundaryHash(idText: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < idText.length; i++) {
    h ^= idText.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The stable file name of a part that starts at the document with this `_id` text. */
export function partNameForId(idText: string): string {
  return createSha1().update(idText).digestHex().slice(0, 12) + '.json';
}

export const FIRST_PART_NAME = 'first.json';

/** Feeds documents in `_id` order; hands back each part as soon as the next one starts. */
export class PartCutter {
  private readonly mask: number;
  private current: CutPart | null = null;
  private currentBytes = 0;
  private readonly used = new Set<string>();

  constructor(private readonly opts: PartCutterOptions) {
    this.mask = (1 << opts.partBits) - 1;
  }

  /**
   * Adds the next document, given by its `_id` text and the length of its text in UTF-16 code
   * units (`text.length` of writeDocument's text); returns the part it completed, if it starts a
   * new one (the document itself is the first of the new part).
   */
  push(idText: string, units: number): CutPart | null {
    let done: CutPart | null = null;
    if (this.current === null) {
      const boundary = (idBoundaryHash(idText) & this.mask) === 0;
      this.current = { name: this.unique(boundary ? partNameForId(idText) : FIRST_PART_NAME), documents: 0, firstId: idText };
      this.currentBytes = 0;
    } else if (
      (idBoundaryHash(idText) & this.mask) === 0 ||
      this.currentBytes + units > this.opts.maxPartBytes
    ) {
      done = this.current;
      this.current = { name: this.unique(partNameForId(idText)), documents: 0, firstId: idText };
      this.currentBytes = 0;
    }
    this.current.documents++;
    this.currentBytes += units + 2;
    return done;
  }

  /** Completes the last part (null for an empty collection). */
  finish(): CutPart | null {
    const done = this.current;
    this.current = null;
    return done;
  }

  // Two boundary _ids whose name hashes collide (48 bits) get a suffix, deterministically.
  private unique(name: string): string {
    let n = name;
    for (let i = 2; this.used.has(n); i++) n = name.replace(/\.json$/, `-${i}.json`);
    this.used.add(n);
    return n;
  }
}
