import { hasErrno } from './errno.js';

/**
 * Whether a process with this pid exists on this machine (EPERM: it exists
 * but belongs to another user). A pid can be reused after its process died,
 * so "alive" may be another program; callers (the writer lock, a consumer's
 * running mark) take that as the conservative answer. A pid that is not a
 * positive integer names no process: `kill(0)` and `kill(-1)` would signal a
 * whole group and answer "alive".
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasErrno(err, 'EPERM');
  }
}
