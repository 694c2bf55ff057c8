/**
 * Whether a process with this pid exists (EPERM: it exists but belongs to
 * another user). A pid can be reused after its process died, so "alive" may
 * be a different program; callers treat it as the conservative answer.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
