import { SnapshotRepository } from '../store/index.js';

/**
 * Writes blobs in the background, a bounded number at a time, so compressing and storing one
 * part (zlib runs on libuv's thread pool) overlaps with encoding the next on the main thread.
 * The id is known at once (it is the content's hash); `drain()` waits for every write and
 * rethrows the first failure.
 */
export class BlobPipeline {
  private readonly inFlight = new Set<Promise<unknown>>();
  private failure: unknown;

  constructor(
    private readonly repo: SnapshotRepository,
    private readonly limit = 8,
  ) {}

  async write(content: Uint8Array | string): Promise<string> {
    if (this.failure) throw this.failure;
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    const p: Promise<unknown> = this.repo.writeBlob(content).then(
      () => this.inFlight.delete(p),
      (err: unknown) => {
        this.inFlight.delete(p);
        this.failure ??= err;
      },
    );
    this.inFlight.add(p);
    return SnapshotRepository.hashBlob(content);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}
