import type { JetStreamHandles } from '../handles.js';
import { ReadAheadLane, type LaneOwner, type WindowLimits } from './readAheadLane.js';

/** Lanes kept at once before an idle one is closed for a new one. */
const MAX_LANES = 4;
/** A lane unused this long is idle: it may be closed for another reader's. */
const IDLE_MS = 1_000;
/** A lane unused this long is closed even under MAX_LANES: its reader is gone. */
const ABANDONED_MS = 30_000;

/**
 * The read-ahead lanes of one log: one per position readers read from
 * (a catch-up from 0 and a follower at the end are two), each bounded by
 * the window limits. Memory therefore grows with the number of readers at
 * distinct positions, never with the stream: beyond MAX_LANES a new lane
 * replaces the least recently used idle one.
 */
export class ReadLanes {
  private lanes: ReadAheadLane[] = [];

  constructor(
    private readonly handles: JetStreamHandles,
    private readonly stream: string,
    private readonly limits: WindowLimits,
    private readonly owner: LaneOwner,
  ) {}

  /** The lane holding `position` (or ending there) with the most records after it. */
  find(position: number): ReadAheadLane | undefined {
    let best: ReadAheadLane | undefined;
    for (const lane of this.lanes) if (lane.covers(position) && (best === undefined || lane.end > best.end)) best = lane;
    return best;
  }

  /** The lane for a reader at `position`: one that covers it, or a new one from there. */
  ensure(position: number): ReadAheadLane {
    const found = this.find(position);
    if (found !== undefined) return found;
    this.closeAbandoned();
    if (this.lanes.length >= MAX_LANES) {
      const now = performance.now();
      const idle = this.lanes.filter((l) => now - l.lastUsed >= IDLE_MS).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (idle !== undefined) this.remove(idle);
    }
    const lane = new ReadAheadLane(this.handles, this.stream, position, this.limits, this.owner);
    this.lanes.push(lane);
    return lane;
  }

  /** The first lane's error that stopped it for good. */
  get failure(): unknown {
    return this.lanes.find((l) => l.failure !== undefined)?.failure;
  }

  held(): { lanes: number; records: number; bytes: number } {
    let records = 0;
    let bytes = 0;
    for (const lane of this.lanes) {
      records += lane.buffer.size;
      bytes += lane.buffer.bytes;
    }
    return { lanes: this.lanes.length, records, bytes };
  }

  dropBelow(position: number): void {
    for (const lane of this.lanes) lane.dropBelow(position);
  }

  closeAbandoned(): void {
    const now = performance.now();
    for (const lane of this.lanes) if (now - lane.lastUsed >= ABANDONED_MS) this.remove(lane);
  }

  async close(): Promise<void> {
    const all = this.lanes;
    this.lanes = [];
    await Promise.all(all.map((l) => l.close()));
  }

  private remove(lane: ReadAheadLane): void {
    this.lanes = this.lanes.filter((l) => l !== lane);
    void lane.close();
  }
}
