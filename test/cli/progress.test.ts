import { describe, expect, it } from 'vitest';
import { progressDisplay } from '../../src/cli/progress.js';
import type { CliIO } from '../../src/cli/io.js';

function captured(over: Partial<CliIO>): { io: CliIO; writes: string[] } {
  const writes: string[] = [];
  return { writes, io: { stdout: () => {}, stderr: (s) => void writes.push(s), env: {}, isTTY: false, ...over } };
}

describe('progress display', () => {
  it('draws when stderr is a terminal even if stdout is not, and nothing after Ctrl-C', async () => {
    const controller = new AbortController();
    const { io, writes } = captured({ isTTY: false, stderrIsTTY: true, signal: controller.signal });
    const p = progressDisplay(io, true);
    p.onProgress({ phase: 'read', collection: 'users', done: 1, total: 10 });
    await new Promise((r) => setTimeout(r, 250));
    expect(writes.join('')).toContain('users');
    controller.abort();
    const atAbort = writes.length;
    p.onProgress({ phase: 'read', collection: 'users', done: 5, total: 10 });
    p.onProgress({ phase: 'read', collection: 'orders', done: 1, total: 10 });
    await new Promise((r) => setTimeout(r, 300));
    expect(writes.slice(atAbort)).toEqual([]);
    p.stop(); // the command's own stop after the interrupt changes nothing either
    expect(writes.slice(atAbort)).toEqual([]);
  });

  it('draws nothing when stderr is not a terminal', () => {
    const { io, writes } = captured({ isTTY: false, stderrIsTTY: false });
    const p = progressDisplay(io, true);
    p.onProgress({ phase: 'read', collection: 'users', done: 1, total: 10 });
    p.stop();
    expect(writes).toEqual([]);
  });
});
