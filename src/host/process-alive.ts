// Whether a process on this machine still runs: how both locks (store/lock.ts, mongo/target-lock.ts) spot a dead holder.

/**
 * True while the process `pid` of this machine exists (signal 0 checks without sending anything).
 *
 * @example
 * isProcessAlive(process.pid); // true
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return !(typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === 'ESRCH');
  }
}
