/**
 * The caller-given ids of the last `capacity` such events appended (default 1,000,000),
 * each with the log position of its commit: what makes a retried commit
 * resolve to its original result. Oldest ids leave first. Memory: a Map
 * entry and the id string, about 100 bytes per id with 36-character UUIDs
 * (docs/streams.md, "Idempotency").
 */
export class IdempotencyWindow {
  private readonly ids = new Map<string, number>();
  /** Insertion order, for eviction; `start` is the oldest live slot. */
  private order: string[] = [];
  private start = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.ids.size;
  }

  /** The log position of the commit holding `id`, when it is in the window. */
  get(id: string): number | undefined {
    return this.ids.get(id);
  }

  add(id: string, commitPosition: number): void {
    if (this.capacity === 0) return;
    if (this.ids.has(id)) return; // the first commit of an id stays its owner
    this.ids.set(id, commitPosition);
    this.order.push(id);
    while (this.ids.size > this.capacity) {
      const old = this.order[this.start]!;
      this.order[this.start++] = '';
      this.ids.delete(old);
    }
    // compact once the dead prefix outweighs the live part
    if (this.start > 1024 && this.start * 2 > this.order.length) {
      this.order = this.order.slice(this.start);
      this.start = 0;
    }
  }

  /** Ids oldest first, with their commit positions (for the checkpoint). */
  *entries(): IterableIterator<[string, number]> {
    for (let i = this.start; i < this.order.length; i++) {
      const id = this.order[i]!;
      yield [id, this.ids.get(id)!];
    }
  }
}
