import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Journal, type CursorState, type CursorStore, type JournalReader } from '@episteme/wal';

const made: string[] = [];
const open: Array<Journal | JournalReader> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => undefined);
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-consumers-'));
  made.push(dir);
  return dir;
}

/** A journal with `count` records of ~`size` bytes, closed after the test. */
export async function journalWith(count: number, options: { maxSegmentBytes?: number; size?: number; dir?: string } = {}): Promise<Journal> {
  const journal = await Journal.open({ dir: options.dir ?? tempDir(), maxSegmentBytes: options.maxSegmentBytes ?? 1024, durability: 'none' });
  open.push(journal);
  const payloads = Array.from({ length: count }, (_, i) => Buffer.from(`event-${i}-`.padEnd(options.size ?? 20, '.')));
  // single appends in one tick: written together, but split at segment boundaries
  await Promise.all(payloads.map((p) => journal.append(p)));
  return journal;
}

export function track<J extends Journal | JournalReader>(journal: J): J {
  open.push(journal);
  return journal;
}

export const quiet = { warn: () => undefined };

/** What `fn` throws; fails the test when it does not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** What `p` rejected with; fails the test when it resolves. */
export async function rejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/**
 * Watches the asynchronous commits a runner makes through a cursor store
 * (`updateAsync` where the store has it, `writeAsync` otherwise):
 * `started` with the state a commit writes, once it is known, and
 * `resolved` (awaited: a slower disk) before the commit resolves.
 */
export function watchAsyncCommits(store: CursorStore, hooks: { started?(state: CursorState): void; resolved?(state: CursorState): void | Promise<void> }): void {
  const writeAsync = store.writeAsync.bind(store);
  store.writeAsync = async (state) => {
    hooks.started?.(state);
    await writeAsync(state);
    await hooks.resolved?.(state);
  };
  const updateAsync = store.updateAsync?.bind(store);
  if (!updateAsync) return;
  store.updateAsync = async (name, next) => {
    const state = await updateAsync(name, (current) => {
      const made = next(current);
      hooks.started?.(made);
      return made;
    });
    await hooks.resolved?.(state);
    return state;
  };
}
