/**
 * dbsnap as users run it: the built library (dist/index.js, what `npm run bench` builds first).
 * Commits ask for the summary of what changed (`changes: true`), as `dbsnap commit` does to
 * print it: its cost is part of every commit a user runs.
 */
import { cpuNow, type Contender } from './types.js';

type Dbsnap = typeof import('../../src/index.js');

async function lib(): Promise<Dbsnap> {
  return (await import('../../dist/index.js' as string)) as Dbsnap;
}

const identity = { name: 'Bench', email: 'bench@example.com' };

/** Commit into a repository `init` created just before the clock starts (commit into an empty repository). */
export const commitFirst: Contender = async (p) => {
  const { init, commit } = await lib();
  await init({ repo: p.repo, author: identity });
  const cpu = cpuNow();
  const started = performance.now();
  const r = await commit({ repo: p.repo, uri: p.uri, db: p.db, author: identity, changes: true });
  return { ms: performance.now() - started, cpuMs: cpuNow() - cpu, info: commitInfo(r) };
};

/** Commit again: with nothing changed or after mutateShop, depending on when the parent runs it. */
export const commitAgain: Contender = async (p) => {
  const { commit } = await lib();
  const cpu = cpuNow();
  const started = performance.now();
  const r = await commit({ repo: p.repo, uri: p.uri, db: p.db, author: identity, changes: true });
  return { ms: performance.now() - started, cpuMs: cpuNow() - cpu, info: commitInfo(r) };
};

/**
 * Commit with nothing changed, by a chosen way of knowing it (README "Knowing that nothing
 * changed"): `read` reads everything (no dbHash, no change stream); `stream` is the default on a
 * replica set, where the change stream decides.
 */
export const commitAgainBy =
  (way: 'read' | 'stream'): Contender =>
  async (p) => {
    const { commit } = await lib();
    const cpu = cpuNow();
    const started = performance.now();
    const r = await commit({
      changes: true,
      repo: p.repo,
      uri: p.uri,
      db: p.db,
      author: identity,
      ...(way === 'read' ? { useServerHashes: false, useChangeStreams: false } : {}),
    });
    return { ms: performance.now() - started, cpuMs: cpuNow() - cpu, info: { ...commitInfo(r), detection: r.detection.method } };
  };

function commitInfo(r: Awaited<ReturnType<Dbsnap['commit']>>): Record<string, unknown> {
  return {
    committed: r.committed,
    commit: r.commit,
    documents: r.documents,
    sources: Object.fromEntries(r.collections.map((c) => [c.name, `${c.source}${c.changed ? ',changed' : ''}`])),
  };
}

export const diffSnapshots: Contender = async (p) => {
  const { diff } = await lib();
  const cpu = cpuNow();
  const started = performance.now();
  const d = await diff({ repo: p.repo, from: 'HEAD~1', to: 'HEAD' });
  const ms = performance.now() - started;
  return { ms, cpuMs: cpuNow() - cpu, info: { totals: (d as unknown as { totals?: unknown }).totals } };
};

/** Restore HEAD into an empty database: replace mode, which always verifies what it loaded. */
export const restoreSnapshot: Contender = async (p) => {
  const m = await lib();
  if (typeof (m as { restore?: unknown }).restore !== 'function') {
    throw new Error('n/a (restore not available)');
  }
  const cpu = cpuNow();
  const started = performance.now();
  const r = await m.restore({
    repo: p.repo,
    ref: 'HEAD',
    uri: p.uri,
    db: p.target,
    mode: 'replace',
    confirm: async () => true,
    author: identity,
  });
  return { ms: performance.now() - started, cpuMs: cpuNow() - cpu, info: { verified: r.verified, summary: r.summary } };
};

/** Verify HEAD offline (every object re-hashed, every part parsed and checked): a read of the whole snapshot. */
export const verifySnapshot: Contender = async (p) => {
  const { verify } = await lib();
  const cpu = cpuNow();
  const started = performance.now();
  const r = await verify({ repo: p.repo, ref: 'HEAD' });
  return { ms: performance.now() - started, cpuMs: cpuNow() - cpu, info: { ok: r.ok, documents: r.collections.reduce((n, c) => n + c.documents, 0) } };
};

/** dbsnap gc: everything into one pack with deltas (the parent measures objects/ before and after). */
export const gcRepository: Contender = async (p) => {
  const { gc } = await lib();
  const cpu = cpuNow();
  const started = performance.now();
  const r = await gc({ repo: p.repo });
  return {
    ms: performance.now() - started,
    cpuMs: cpuNow() - cpu,
    info: { objects: r.objects, looseObjects: r.looseObjects, deltas: r.deltas, reusedEntries: r.reusedEntries, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter },
  };
};

/** Loads what every dbsnap child loads (the driver, dist/) and does nothing: the RSS every child starts from. */
export const idle: Contender = async () => {
  await lib();
  await import('mongodb');
  return { ms: 0 };
};
