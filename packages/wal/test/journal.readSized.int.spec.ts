/**
 * `read(offset)` reads a record with one pread sized from the records read
 * lately (bounded by the end of the segment and by the head), and a record
 * longer than that read gets the rest in a second one. These tests put a
 * record longer than the first read after many short ones, as the last
 * record of a sealed segment and as the last record of the log, a short one
 * there after a long one (the sized read must stop at the segment's end and
 * at the head), and damage in the part of a long record that only the
 * second read brings: every payload read back must be the one written, and
 * the damage must fail the read.
 */
import { describe, expect, it } from 'vitest';
import { Journal, nodeFileIO, WalErrorCodes, type FileIO, type LogReader } from '../src/index.js';
import { HEADER_SIZE, RECORD_OVERHEAD, readRecordsAt } from '../src/internals.js';
import { flipBit, snapshotDir, tempDir, thrown, writeJournal } from './helpers.js';
import { bytes } from './journalEdges.js';
import { join } from 'node:path';

/**
 * Counts the preads (`read` calls) made through it into segment files, past
 * their headers: a reader's view refresh (run when its view is a moment
 * old, so under load in the middle of a run of reads) reads other files, the
 * segment header and its last record's header (RECORD_OVERHEAD bytes), which
 * are not what is counted here; a record's read is at least 1 KiB.
 */
function countingIO(): FileIO & { reads: number } {
  const segmentFds = new Set<number>();
  const io = { ...nodeFileIO, reads: 0 };
  io.open = (path, flags) => {
    const fd = nodeFileIO.open(path, flags);
    if (path.endsWith('.wal')) segmentFds.add(fd);
    return fd;
  };
  io.close = (fd) => {
    segmentFds.delete(fd);
    nodeFileIO.close(fd);
  };
  io.read = (fd, buf, offset, length, position) => {
    if (segmentFds.has(fd) && position >= HEADER_SIZE && length > RECORD_OVERHEAD) io.reads++;
    return nodeFileIO.read(fd, buf, offset, length, position);
  };
  return io;
}

const SHORT = 20;
/** Longer than the smallest first read (1 KiB). */
const LONG = 5_000;
/** Longer than the largest first read (64 KiB). */
const HUGE = 100_000;

function expectPayload(journal: LogReader, offset: number, want: Uint8Array, ctx: string): void {
  const rec = journal.read(offset);
  expect(rec, ctx).toBeDefined();
  expect(Buffer.from(rec!.payload).equals(Buffer.from(want)), ctx).toBe(true);
  expect(rec!.next, ctx).toBe(offset + RECORD_OVERHEAD + want.length);
}

describe('Journal.read sized from the records read lately', () => {
  for (const kind of ['writer', 'reader'] as const) {
    it(`a record longer than the first read, after many short ones, in the middle, at a segment's end and at the head (${kind})`, async () => {
      const dir = tempDir();
      // segment 0: 200 short, a long one last; segment 1: a huge one, then short ones, a short one last;
      // segment 2: short ones, then a long one at the head
      const payloads: Uint8Array[][] = [
        [...Array.from({ length: 200 }, (_, i) => bytes(SHORT, i)), bytes(LONG, 1000)],
        [bytes(HUGE, 1001), ...Array.from({ length: 50 }, (_, i) => bytes(SHORT + (i % 7), 2000 + i))],
        [...Array.from({ length: 100 }, (_, i) => bytes(SHORT, 3000 + i)), bytes(LONG, 3999)],
      ];
      const { offsets } = writeJournal(dir, payloads);
      const flat = payloads.flat();
      const io = countingIO();
      const journal = kind === 'writer' ? await Journal.open({ dir, io, scanSealedOnOpen: false }) : await Journal.openForRead({ dir, io });
      try {
        expect(journal.segmentList().length).toBe(3);
        // in log order: short records (one pread each), then the long one at segment 0's end
        io.reads = 0;
        for (let i = 0; i < 200; i++) expectPayload(journal, offsets[i]!, flat[i]!, `short record ${i}`);
        expect(io.reads, 'one pread per short record').toBe(200);
        io.reads = 0;
        expectPayload(journal, offsets[200]!, flat[200]!, 'the long record ending segment 0');
        expect(io.reads, 'the long record: a first read, then the rest').toBe(2);
        // every record in order, then backwards (the sized read follows the last record read)
        flat.forEach((p, i) => expectPayload(journal, offsets[i]!, p, `record ${i} in order`));
        for (let i = flat.length - 1; i >= 0; i--) expectPayload(journal, offsets[i]!, flat[i]!, `record ${i} backwards`);
        // after the huge record (the largest first read): the short last record of a sealed segment and of the log
        const lastOf1 = 200 + 1 + 50;
        for (const i of [lastOf1, flat.length - 2, flat.length - 1, 0, 200]) {
          expectPayload(journal, offsets[201]!, flat[201]!, 'the huge record');
          expectPayload(journal, offsets[i]!, flat[i]!, `record ${i} right after the huge one`);
        }
        // after short ones: the long record at the head
        expectPayload(journal, offsets[flat.length - 2]!, flat[flat.length - 2]!, 'a short record before the head');
        io.reads = 0;
        expectPayload(journal, offsets[flat.length - 1]!, flat[flat.length - 1]!, 'the long record at the head');
        expect(io.reads).toBe(2);
        expect(journal.read(journal.head)).toBeUndefined();
      } finally {
        await journal.close();
      }
    });
  }

  it('a record shorter than the records read lately, at the head of a journal still being written, and the records appended after it', async () => {
    const dir = tempDir();
    const journal = await Journal.open({ dir });
    try {
      const long = await journal.append(bytes(LONG, 1));
      const short = await journal.append(bytes(SHORT, 2));
      expectPayload(journal, long.offset, bytes(LONG, 1), 'long');
      expectPayload(journal, short.offset, bytes(SHORT, 2), 'short at the head, after a long read');
      const later = await journal.append(bytes(LONG * 2, 3));
      expectPayload(journal, short.offset, bytes(SHORT, 2), 'short, with a record after it');
      expectPayload(journal, later.offset, bytes(LONG * 2, 3), 'a record longer than the last one read');
    } finally {
      await journal.close();
    }
  });

  it('damage in the part of a long record only the second read brings fails the read, and reading changes nothing', async () => {
    const dir = tempDir();
    // the long record is in a sealed segment (the writer's recovery would cut it from the last one)
    const payloads = [[...Array.from({ length: 20 }, (_, i) => bytes(SHORT, i))], [bytes(LONG, 100), bytes(SHORT, 101)], [bytes(SHORT, 102)]];
    const { offsets, names } = writeJournal(dir, payloads);
    const longAt = offsets[20]!; // the base of segment 1
    // a byte of the payload well past the first 1 KiB read
    flipBit(join(dir, names[1]!), HEADER_SIZE + RECORD_OVERHEAD + LONG - 10, 3);
    // the segments: a writer adds files of its own (lock, published head)
    const segments = (): Record<string, string> => Object.fromEntries(Object.entries(snapshotDir(dir)).filter(([name]) => name.endsWith('.wal')));
    const before = segments();
    for (const kind of ['writer', 'reader'] as const) {
      const journal = kind === 'writer' ? await Journal.open({ dir, scanSealedOnOpen: false }) : await Journal.openForRead({ dir });
      try {
        // the short records first, so that the first read of the long one is the smallest
        for (let i = 0; i < 20; i++) expectPayload(journal, offsets[i]!, payloads[0]![i]!, `short ${i} (${kind})`);
        expect(thrown(() => journal.read(longAt)), kind).toMatchObject({
          code: WalErrorCodes.CorruptRecord,
          location: { segment: names[1], position: HEADER_SIZE, offset: longAt, reason: 'crc-mismatch' },
        });
        expectPayload(journal, offsets[21]!, payloads[1]![1]!, `the record after the damaged one (${kind})`);
      } finally {
        await journal.close();
      }
    }
    expect(segments()).toEqual(before);
  });

  it('a length field that runs past the segment is refused without reading past it', async () => {
    const dir = tempDir();
    const { offsets, names } = writeJournal(dir, [[bytes(SHORT, 0), bytes(SHORT, 1)], [bytes(SHORT, 2)]]);
    // the second record's length grows by 4 KiB: past the end of its (sealed) segment
    flipBit(join(dir, names[0]!), HEADER_SIZE + RECORD_OVERHEAD + SHORT + 1, 4);
    const journal = await Journal.openForRead({ dir });
    try {
      expectPayload(journal, offsets[0]!, bytes(SHORT, 0), 'first');
      // not a segment's base: the offset may be the caller's mistake, so it is refused as one
      expect(thrown(() => journal.read(offsets[1]!))).toMatchObject({ code: WalErrorCodes.NotRecordBoundary });
      expectPayload(journal, offsets[2]!, bytes(SHORT, 2), 'the next segment');
    } finally {
      await journal.close();
    }
  });
});

describe('readRecordsAt: the records at a list of offsets', () => {
  /** What readRecordsAt visits, copied. */
  function visitAll(journal: Journal | LogReader, offsets: number[]): Array<{ offset: number; payload: Buffer }> {
    const seen: Array<{ offset: number; payload: Buffer }> = [];
    readRecordsAt(journal as Journal, offsets, (bytes, at, length, offset) => seen.push({ offset, payload: Buffer.from(bytes.subarray(at, at + length)) }));
    return seen;
  }

  for (const kind of ['writer', 'reader'] as const) {
    it(`visits what read gives, for runs of near records, far ones, long ones, across segments, in any order (${kind})`, async () => {
      const dir = tempDir();
      const payloads: Uint8Array[][] = [
        [...Array.from({ length: 100 }, (_, i) => bytes(SHORT + (i % 13), i)), bytes(LONG, 100), bytes(SHORT, 101)],
        [bytes(HUGE, 200), ...Array.from({ length: 300 }, (_, i) => bytes(SHORT * 5, 300 + i)), bytes(LONG, 999)],
        [...Array.from({ length: 50 }, (_, i) => bytes(SHORT, 1000 + i))],
      ];
      const { offsets } = writeJournal(dir, payloads);
      const flat = payloads.flat();
      const io = countingIO();
      const journal = kind === 'writer' ? await Journal.open({ dir, io, scanSealedOnOpen: false }) : await Journal.openForRead({ dir, io });
      try {
        const pick = (idx: number[]): number[] => idx.map((i) => offsets[i]!);
        const expectSame = (idx: number[], ctx: string): void => {
          const seen = visitAll(journal, pick(idx));
          expect(seen.map((s) => s.offset), ctx).toEqual(pick(idx));
          seen.forEach((s, k) => expect(s.payload.equals(Buffer.from(flat[idx[k]!]!)), `${ctx}: record ${idx[k]}`).toBe(true));
        };
        const all = flat.map((_, i) => i);
        expectSame(all, 'every record in log order');
        expectSame([...all].reverse(), 'backwards');
        expectSame(all.filter((i) => i % 7 === 0), 'every seventh');
        expectSame([100, 101, 102, 103, 5, 5, 401, 402, 403, 450], 'long ones inside runs, a repeat, across segments');
        // near records: one pread for the run
        io.reads = 0;
        expectSame(Array.from({ length: 40 }, (_, i) => 110 + i * 3), 'a run of near records');
        expect(io.reads, 'one pread for records a few KiB apart').toBe(1);
        expect(visitAll(journal, [])).toEqual([]);
      } finally {
        await journal.close();
      }
    });
  }

  it('calls a record that does not decode at a listed offset damage (the offsets are boundaries an index knows), and hands the visitor its own errors as they are', async () => {
    const dir = tempDir();
    const payloads = [[...Array.from({ length: 20 }, (_, i) => bytes(SHORT, i))], [...Array.from({ length: 20 }, (_, i) => bytes(SHORT, 20 + i))], [bytes(SHORT, 40)]];
    const { offsets, names } = writeJournal(dir, payloads);
    // a payload byte of the 6th record of the sealed segment 1 (not its base: read calls it off a boundary)
    flipBit(join(dir, names[1]!), HEADER_SIZE + 5 * (RECORD_OVERHEAD + SHORT) + RECORD_OVERHEAD + 2, 1);
    // and the first record of segment 1 is fine, its base
    const journal = await Journal.open({ dir, scanSealedOnOpen: false });
    try {
      const damaged = offsets[25]!;
      // read(offset) cannot tell damage from a wrong offset off a segment's base; readRecordsAt is given boundaries
      expect(thrown(() => journal.read(damaged))).toMatchObject({ code: WalErrorCodes.NotRecordBoundary });
      const seen: number[] = [];
      const err = thrown(() => readRecordsAt(journal, [offsets[20]!, offsets[22]!, damaged, offsets[27]!], (_b, _a, _l, offset) => seen.push(offset)));
      expect(err).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { segment: names[1], offset: damaged, reason: 'crc-mismatch' } });
      expect(thrown(() => readRecordsAt(journal, [damaged], () => undefined))).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: damaged } });
      expect(seen, 'the records before the damaged one were visited').toEqual([offsets[20], offsets[22]]);
      expect(thrown(() => readRecordsAt(journal, [offsets[0]!, journal.head], () => undefined))).toMatchObject({ code: WalErrorCodes.OffsetOutOfRange });
      // an offset that is no boundary is the caller's broken promise: what is there does not decode
      expect(thrown(() => readRecordsAt(journal, [offsets[0]! + 1], () => undefined))).toMatchObject({ code: WalErrorCodes.CorruptRecord });
      expect(thrown(() => readRecordsAt(journal, [offsets[0]!, -1], () => undefined))).toMatchObject({ code: WalErrorCodes.InvalidArgument });
      expect(thrown(() => readRecordsAt(journal, [offsets[0]!, 0.5], () => undefined))).toMatchObject({ code: WalErrorCodes.InvalidArgument });
      const mine = new Error('the visitor failed');
      expect(thrown(() => readRecordsAt(journal, [offsets[0]!], () => { throw mine; }))).toBe(mine);
      // a visitor that reads again (nested) gets its own buffer: the outer records stay right
      const outer: Array<{ offset: number; first: number }> = [];
      readRecordsAt(journal, offsets.slice(0, 10), (b, at, _l, offset) => {
        const inner = visitAll(journal, offsets.slice(30, 40));
        expect(inner.length).toBe(10);
        outer.push({ offset, first: b[at]! });
      });
      expect(outer).toEqual(offsets.slice(0, 10).map((offset, i) => ({ offset, first: payloads[0]![i]![0] })));
    } finally {
      await journal.close();
    }
  });
});
