/**
 * Group commit for the peers, the best they offer for concurrent durable
 * appends: every write that arrives while a commit runs waits for the next
 * one, which takes them all as one SQLite transaction or one LevelDB batch.
 *
 * A commit starts one macrotask after the first write of a group
 * (setImmediate), not one microtask after it as Episteme's writer does:
 * better-sqlite3 commits synchronously, so no write can arrive while it
 * runs, and the appenders resolved by the previous commit only get to
 * enqueue their next write once the event loop turns. Without that turn each
 * SQLite "group" would hold one write.
 */
export class GroupCommitQueue<T> {
  private queue: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private running = false;
  private scheduled = false;
  /** Size of every group committed, for the batch-size column. */
  readonly groupSizes: number[] = [];

  constructor(
    private readonly commit: (items: T[]) => void | Promise<void>,
    private readonly maxGroup = 4096,
  ) {}

  enqueue(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxGroup);
        this.groupSizes.push(group.length);
        try {
          await this.commit(group.map((g) => g.item));
          for (const g of group) g.resolve();
        } catch (err) {
          for (const g of group) g.reject(err);
        }
        // Let the appenders just resolved enqueue their next write before the next group is cut.
        if (this.queue.length < this.maxGroup) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
  }
}
