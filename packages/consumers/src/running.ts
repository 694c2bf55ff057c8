import type { CursorState } from '@episteme/wal';
import { isProcessAlive } from '@episteme/wal/internals';
import { ConsumerRunningError } from './errors.js';

/**
 * Consumers whose runner runs in this process, by the log's location and
 * name. Kept here, apart from the runner and the registry, so that both can
 * see it: the cursor file's pid cannot tell this process's runner from a
 * stale mark, nor one registry instance's runner from another's.
 */
const runningHere = new Set<string>();

/** Keyed by location, not by log handle: a reader and the writer of one journal in this process are one log. */
function keyOf(location: string, name: string): string {
  return `${location}\0${name}`;
}

export function isRunningHere(location: string, name: string): boolean {
  return runningHere.has(keyOf(location, name));
}

/** Marks a run as started here; ConsumerRunningError when one already runs here. Returns the unmark. */
export function markRunningHere(location: string, name: string): () => void {
  const key = keyOf(location, name);
  if (runningHere.has(key)) throw new ConsumerRunningError(name, process.pid);
  runningHere.add(key);
  return () => void runningHere.delete(key);
}

/**
 * Refuses (ConsumerRunningError) a reset or delete of a consumer that a
 * runner of this process runs: the runner goes on from the position it
 * holds in memory, so a reset under it would be undone by its next commit,
 * and a delete would fail the run.
 */
export function refuseIfRunningHere(location: string, name: string): void {
  if (isRunningHere(location, name)) throw new ConsumerRunningError(name, process.pid);
}

/** Refuses (ConsumerRunningError) a consumer that the cursor file says another live process runs. */
export function refuseIfRunningElsewhere(state: CursorState): void {
  if (effectiveState(state) === 'running' && state.pid !== undefined && state.pid !== process.pid) {
    throw new ConsumerRunningError(state.name, state.pid);
  }
}

/** The state to show: `running` of a process that is gone reads as `stopped`. */
export function effectiveState(state: CursorState): CursorState['state'] {
  if (state.state === 'running' && state.pid !== undefined && state.pid !== process.pid && !isProcessAlive(state.pid)) return 'stopped';
  return state.state;
}
