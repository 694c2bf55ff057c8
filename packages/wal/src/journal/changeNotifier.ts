import { watch, type FSWatcher } from 'node:fs';

/**
 * Wakes readers that wait for new records. In the writer's process the
 * writer calls `notify()` when it publishes a new head. A read-only journal in
 * another process cannot be told, so it watches the directory (inotify on
 * Linux) and, in case an event is missed, re-checks every `pollMs`: waiting
 * costs nothing between changes, never a busy loop.
 */
export class ChangeNotifier {
  private waiters = new Set<() => void>();
  private watcher: FSWatcher | undefined;

  constructor(private readonly watchDir?: string, private readonly pollMs = 250) {}

  notify(): void {
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const wake of waiting) wake();
  }

  /** Resolves on the next change, on abort, or (when watching) after pollMs. */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    this.startWatching();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      if (this.watchDir !== undefined) timer = setTimeout(done, this.pollMs);
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.notify();
  }

  private startWatching(): void {
    if (this.watchDir === undefined || this.watcher) return;
    try {
      this.watcher = watch(this.watchDir, { persistent: false }, () => this.notify());
      this.watcher.on('error', () => {
        // fall back to polling alone
        this.watcher?.close();
      });
    } catch {
      // no watch support (some network file systems): polling still works
    }
  }
}
