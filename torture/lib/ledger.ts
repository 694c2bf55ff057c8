/**
 * The independent record of one session: what the system under test
 * acknowledged, kept outside it (in the parent's memory, fed by its own
 * observations or by child stdout lines). Every check after a crash compares
 * the recovered directory with this.
 */
export type AttemptStatus = 'acked' | 'rejected-write' | 'rejected-failed' | 'rejected-other';

export interface LedgerEntry {
  payload: string;
  /** Survives a power loss (synced when acknowledged, or since). */
  durable: boolean;
}

export class Ledger {
  /** Every record of the session's log history known to the checker, by offset (deleted ones included). */
  readonly records = new Map<number, LedgerEntry>();
  /** Fate of each payload the session tried to append; absent = in flight when the crash came. */
  readonly status = new Map<string, AttemptStatus>();
  /** Last acknowledged (returned) durable cursor write per consumer. */
  readonly cursorAcks = new Map<string, number>();
  /** Per consumer: the offset after the furthest record its handler finished, or where it started. */
  readonly handledUpTo = new Map<string, number>();
  /** Records read-only readers in other processes saw this cycle: offset -> payload digest. */
  readonly readerSeen = new Map<number, string>();
  /** Acknowledged `none` appends not yet covered by a completed sync (offsets). */
  private unsynced: number[] = [];

  /**
   * An append resolved. `durable` when a power loss can no longer take it
   * (immediate durability); every ack survives a SIGKILL of the process.
   */
  ack(offset: number, payload: string, durable: boolean): void {
    this.records.set(offset, { payload, durable });
    this.status.set(payload, 'acked');
    if (!durable) this.unsynced.push(offset);
  }

  reject(payload: string, code: string | undefined): void {
    const status: AttemptStatus =
      code === 'WAL_WRITE_FAILED' ? 'rejected-write' : code === 'WAL_FAILED_STATE' ? 'rejected-failed' : 'rejected-other';
    // a later rejection never downgrades an ack (cannot happen, but be strict about our own record)
    if (this.status.get(payload) !== 'acked') this.status.set(payload, status);
  }

  /** A sync is starting: returns what it will cover once it resolves. */
  syncStarted(): number[] {
    const covered = this.unsynced;
    this.unsynced = [];
    return covered;
  }

  /** The sync that started with `covered` resolved: those records are durable. */
  syncDone(covered: number[]): void {
    for (const o of covered) {
      const e = this.records.get(o);
      if (e) e.durable = true;
    }
  }

  /** A sync failed: what it covered is still not durable. */
  syncFailed(covered: number[]): void {
    this.unsynced.push(...covered);
  }

  cursorAck(name: string, cursor: number): void {
    this.cursorAcks.set(name, cursor);
  }

  handled(name: string, next: number): void {
    this.handledUpTo.set(name, Math.max(this.handledUpTo.get(name) ?? 0, next));
  }

  /**
   * After a check. Following a power loss, what the log holds is on the disk
   * for good. Otherwise unsynced records stay unsynced: a reopened journal
   * does not know about them, so its sync() will not cover them either.
   */
  settle(afterPowerLoss: boolean): void {
    if (afterPowerLoss) for (const e of this.records.values()) e.durable = true;
    this.unsynced = [];
    this.readerSeen.clear();
  }

  /** Offsets in order. */
  sortedOffsets(): number[] {
    return [...this.records.keys()].sort((a, b) => a - b);
  }
}
