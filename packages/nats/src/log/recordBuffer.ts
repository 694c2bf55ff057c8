import type { LogRecord } from '@episteme/wal';
import { checksums } from '@episteme/wal/internals';
import { positionAfter } from './positions.js';

/**
 * Consecutive records of a stream held by one read-ahead lane, in sequence order. Positions
 * are contiguous over the stream's sequences: the record of sequence `s`
 * ends at `positionAfter(s)` (`next`) and starts where the record before it
 * ended, so position 0 is before the stream's first message and a deleted
 * message leaves no hole a reader could stop in.
 */
export class RecordBuffer {
  private records: LogRecord[] = [];
  /** Where the first held record starts (the head when none is held). */
  private start = 0;
  private heldBytes = 0;

  /** The position after the last held record. */
  get head(): number {
    return this.records.length === 0 ? this.start : this.records[this.records.length - 1]!.next;
  }

  /** The position of the first held record. */
  get earliest(): number {
    return this.start;
  }

  /** Where the last held record starts (the head when none is held). */
  get lastStart(): number {
    return this.records.length === 0 ? this.start : this.records[this.records.length - 1]!.offset;
  }

  get size(): number {
    return this.records.length;
  }

  /** The payload bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Starts empty at `position` (the stream's first retained sequence minus one). */
  reset(position: number): void {
    this.records = [];
    this.start = position;
    this.heldBytes = 0;
  }

  /** Adds the message of sequence `seq` after the last one. */
  push(seq: number, payload: Uint8Array): LogRecord {
    const record: LogRecord = { offset: this.head, next: positionAfter(seq), payload, blake3: blake3Of(payload) };
    this.records.push(record);
    this.heldBytes += payload.length;
    return record;
  }

  /** The index of the record starting at `position`, or -1. */
  indexAt(position: number): number {
    const i = this.indexAtOrBefore(position);
    return i >= 0 && this.records[i]!.offset === position ? i : -1;
  }

  /** The index of the last record starting at or before `position`, or -1. */
  indexAtOrBefore(position: number): number {
    let lo = 0;
    let hi = this.records.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.offset <= position) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  at(index: number): LogRecord | undefined {
    return this.records[index];
  }

  slice(from: number, count: number): LogRecord[] {
    return this.records.slice(from, from + count);
  }

  /** Drops the records below `position` (a purge): the first kept one starts the buffer. */
  dropBelow(position: number): void {
    if (position <= this.start) return;
    const keep = this.records.findIndex((r) => r.offset >= position);
    if (keep < 0) {
      this.reset(Math.max(position, this.head));
      return;
    }
    for (let i = 0; i < keep; i++) this.heldBytes -= this.records[i]!.payload.length;
    this.records = this.records.slice(keep);
    this.start = this.records[0]!.offset;
  }
}

/** JetStream keeps no content digest; the log interface promises the payload's BLAKE3, computed on arrival. */
function blake3Of(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  checksums().blake3Into(payload, 0, payload.length, out, 0);
  return out;
}
