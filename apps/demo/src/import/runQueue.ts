/**
 * Hands runs of input from the reader to the one consumer that takes them
 * in order, each as soon as it is ready: a slow pipe (`tail -f | episteme
 * import -`) must not leave lines waiting for the reader's next chunk. At
 * most `limit` runs wait, so the reader does not run far ahead of what is
 * appended. When the consumer fails, `onFailure` runs (the import destroys
 * its input there: a reader blocked on a pipe that never closes is freed)
 * and every later `give` says stop.
 */
export class RunQueue<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: { err: unknown } | undefined;
  private wakeTaker: (() => void) | undefined;
  private wakeGiver: (() => void) | undefined;

  constructor(
    private readonly limit: number,
    private readonly onFailure: () => void,
  ) {}

  /** Items queued, the one being taken included. */
  get waiting(): number {
    return this.items.length;
  }

  /** Whether the consumer failed (its error is what `drain` rejects with). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Queues `item` and waits for room; false when the consumer failed or the queue was ended: stop reading. */
  async give(item: T): Promise<boolean> {
    if (this.failure || this.ended) return false;
    this.items.push(item);
    this.wake('taker');
    while (this.items.length > this.limit && !this.failure && !this.ended) await new Promise<void>((r) => (this.wakeGiver = r));
    return !this.failure && !this.ended;
  }

  /** No more items: `drain` resolves once the queued ones are taken. */
  end(): void {
    this.ended = true;
    this.wake('taker');
    this.wake('giver');
  }

  /** Drops what is queued and ends: `drain` resolves after the item it is taking, if any. */
  abort(): void {
    this.items.length = 0;
    this.end();
  }

  /** Takes the items in order until the queue ends; rejects with `take`'s error, after `onFailure`. */
  async drain(take: (item: T) => Promise<void>): Promise<void> {
    try {
      for (;;) {
        const item = this.items[0];
        if (item === undefined) {
          if (this.ended) return;
          await new Promise<void>((r) => (this.wakeTaker = r));
          continue;
        }
        await take(item);
        this.items.shift();
        this.wake('giver');
      }
    } catch (err) {
      this.failure = { err };
      this.items.length = 0;
      this.wake('giver');
      this.onFailure();
      throw err;
    }
  }

  private wake(who: 'taker' | 'giver'): void {
    const w = who === 'taker' ? this.wakeTaker : this.wakeGiver;
    if (who === 'taker') this.wakeTaker = undefined;
    else this.wakeGiver = undefined;
    w?.();
  }
}
