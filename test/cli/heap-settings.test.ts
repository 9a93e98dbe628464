import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { applyHeapSettings, HEAP_GROWING_PERCENT, heapFlags } from '../../src/cli/heap-settings.js';
import { BIN, dbsnapBinary } from './binary.js';

describe('the executable heap setting (src/cli/heap-settings.ts)', () => {
  it('bounds heap growth unless the user set it on node command line', () => {
    expect(HEAP_GROWING_PERCENT).toBe(100);
    expect(heapFlags([])).toEqual(['--heap-growing-percent=100']);
    expect(heapFlags(['--enable-source-maps', '--max-old-space-size=4096'])).toEqual(['--heap-growing-percent=100']);
    expect(heapFlags(['--heap-growing-percent=30'])).toEqual([]);
    expect(heapFlags(['--trace-gc', '--heap_growing_percent=300'])).toEqual([]);
    expect(heapFlags(['--heap-growing-percent', '30'])).toEqual([]);
    // A flag that only starts the same way is not the user's choice.
    expect(heapFlags(['--heap-growing-percentage=5'])).toEqual(['--heap-growing-percent=100']);
  });

  it('applies to the running process what heapFlags returns', () => {
    expect(applyHeapSettings(['--heap-growing-percent=100'])).toEqual([]);
    expect(applyHeapSettings([])).toEqual(['--heap-growing-percent=100']);
  });

  it('the binary runs with the setting and with a user-chosen value', async () => {
    const plain = await dbsnapBinary(['--version']);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const chosen = await promisify(execFile)(process.execPath, ['--heap-growing-percent=50', BIN, '--version']);
    expect(chosen.stderr).toBe('');
    expect(chosen.stdout).toBe(plain.stdout);
  });
});
