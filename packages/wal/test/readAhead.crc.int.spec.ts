/**
 * Read-ahead for transient readers with verifyOnRead 'crc' (the default): a
 * projection rebuild, a consumer with transientRecords. The next run is read
 * into one of the reader's two buffers and the checksum worker checks each
 * record's CRC32C while the caller works on the batch it holds; the batch
 * after it is handed out as views into the run. These tests show that the
 * records are the ones the ordinary read hands out, that damage inside a run
 * fails the read exactly as the ordinary read does, that the batch a caller
 * holds is not read over by the run read ahead after it, and that every way
 * the worker can be missing (off, busy, given up, answering "unchecked")
 * falls back to the ordinary read. Where the native run check is built
 * (native/recordRun.c) a transient reader reads no run ahead: these tests
 * run with the portable checksums, as a machine without it does.
 */
import type { MessagePort } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it, vi, type TestContext } from 'vitest';
import { Journal, transientReadBuffer, WalErrorCodes, type JournalReader, type JournalRecord } from '../src/index.js';
import { ChecksumOffload } from '../src/checksum/offload.js';
import { ReadAhead } from '../src/journal/readAhead.js';
import { encodeRecord, portableChecksums, setChecksums } from '../src/internals.js';
import { flipBitInPlace, layoutOf, payloadOf, readyOffload, tempDir, withoutChecksumOffload, writeJournal } from './helpers.js';
import { seededRandom } from './rng.js';

/** Three segments of 120-420 B records: runs of hundreds of KiB, each segment several of them. */
function segmentsOf(seed: number): Uint8Array[][] {
  const rnd = seededRandom(seed);
  let i = 0;
  return [5000, 5000, 3000].map((count) => Array.from({ length: count }, () => payloadOf(i++, 120 + Math.floor(rnd() * 300))));
}

interface Read {
  offsets: number[];
  /** The payload and digest of every record, as it was at its step. */
  bytes: string[];
  error?: unknown;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Every record from 0 with transient readMany calls of `batch` (into `buffer`), or up to the error that stopped it. */
function readManyAll(journal: JournalReader | Journal, batch: number, buffer: ReturnType<typeof transientReadBuffer> | true = true, workMs = 0): Read {
  const read: Read = { offsets: [], bytes: [] };
  try {
    for (let pos = 0; ; ) {
      const got = journal.readMany(pos, batch, { transient: buffer });
      if (got.length === 0) return read;
      if (workMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workMs); // the caller at work on its batch (a rebuild decodes)
      for (const r of got) {
        read.offsets.push(r.offset);
        read.bytes.push(hex(r.payload) + hex(r.blake3));
      }
      pos = got[got.length - 1]!.next;
    }
  } catch (error) {
    read.error = error;
    return read;
  }
}

async function readFromAll(journal: JournalReader | Journal): Promise<Read> {
  const read: Read = { offsets: [], bytes: [] };
  try {
    for await (const r of journal.readFrom(0, { transient: true })) {
      read.offsets.push(r.offset);
      read.bytes.push(hex(r.payload) + hex(r.blake3));
    }
  } catch (error) {
    read.error = error;
  }
  return read;
}

/** The worker, ready, or undefined (one CPU, EPISTEME_CHECKSUM_THREADS=0: nothing is read ahead). */
/** Runs `fn`, noting the file positions [from, to) of each run handed to the worker for a CRC-only check. */
function runsDuring<T>(offload: ChecksumOffload, fn: () => T): { result: T; runs: Array<[number, number]> } {
  const runs: Array<[number, number]> = [];
  let from = -1;
  const start = ReadAhead.prototype.start;
  vi.spyOn(ReadAhead.prototype, 'start').mockImplementation(function (this: ReadAhead, ...args: Parameters<ReadAhead['start']>) {
    from = args[2];
    start.apply(this, args);
  });
  const startJob = offload.startJob.bind(offload);
  vi.spyOn(offload, 'startJob').mockImplementation((to, split, options) => {
    if (options?.crcOnly) runs.push([from, from + to]);
    return startJob(to, split, options);
  });
  try {
    return { result: fn(), runs };
  } finally {
    vi.mocked(ReadAhead.prototype.start).mockRestore();
    vi.mocked(offload.startJob).mockRestore();
  }
}

// with the native run check a transient reader reads no run ahead (its CRC32C costs less than a handoff):
// these tests are of the read-ahead, which serves transient readers where it is not built
const previousChecksums = setChecksums(portableChecksums);
afterAll(() => {
  setChecksums(previousChecksums);
});

afterEach(() => {
  ReadAhead.fixedShare = undefined;
  vi.restoreAllMocks();
});

describe("read-ahead for transient readers, verifyOnRead 'crc'", () => {
  it('hands out the records of the ordinary read, for every batch size, buffer and interleaving', async (ctx) => {
    const offload = readyOffload(ctx);
    const dir = tempDir();
    writeJournal(dir, segmentsOf(1));
    for (const open of [() => Journal.openForRead({ dir }), () => Journal.open({ dir })]) {
      const journal = await open();
      try {
        const expected = withoutChecksumOffload(() => readManyAll(journal, 100_000));
        expect(expected.error).toBeUndefined();
        expect(expected.offsets).toHaveLength(13_000);
        for (const batch of [1, 100, 1000, 4096]) {
          for (const buffer of [true, transientReadBuffer()] as const) {
            const jobs = offload.jobs;
            const got = readManyAll(journal, batch, buffer);
            expect(got.error).toBeUndefined();
            expect(got.bytes, `batches of ${batch}`).toEqual(expected.bytes);
            expect(got.offsets).toEqual(expected.offsets);
            if (batch >= 1000) expect(offload.jobs - jobs, `batches of ${batch}: nothing was read ahead`).toBeGreaterThan(0);
          }
        }
        const iterated = await readFromAll(journal);
        expect(iterated.bytes).toEqual(expected.bytes);
        // two readers with buffers of their own taking turns: each one's run is the other's miss, or the worker's busy
        const a = transientReadBuffer();
        const b = transientReadBuffer();
        const seen: [string[], string[]] = [[], []];
        const pos = [0, 0];
        for (let turn = 0; turn < 100; turn++) {
          ([a, b] as const).forEach((buffer, k) => {
            const got = journal.readMany(pos[k]!, k === 0 ? 700 : 1500, { transient: buffer });
            for (const r of got) seen[k]!.push(hex(r.payload) + hex(r.blake3));
            if (got.length) pos[k] = got[got.length - 1]!.next;
          });
        }
        expect(seen[0]).toEqual(expected.bytes);
        expect(seen[1]).toEqual(expected.bytes);
      } finally {
        await journal.close();
      }
    }
  });

  it('a batch held is not read over by the run read ahead after it: its bytes are whole until the next call', async (ctx) => {
    const offload = readyOffload(ctx);
    const dir = tempDir();
    writeJournal(dir, segmentsOf(2));
    const journal = await Journal.openForRead({ dir });
    try {
      const expected = withoutChecksumOffload(() => readManyAll(journal, 100_000));
      for (const buffer of [true, transientReadBuffer()] as const) {
        const jobs = offload.jobs;
        let held: JournalRecord[] = [];
        let at = 0; // index of held[0] in expected
        let fromRuns = 0;
        for (let pos = 0; ; ) {
          // batch N is whole (the file's bytes) up to the call that takes batch N + 1
          expect(held.map((r) => hex(r.payload) + hex(r.blake3)), `the batch at ${held[0]?.offset}`).toEqual(expected.bytes.slice(at, at + held.length));
          const batch = journal.readMany(pos, 1000, { transient: buffer });
          if (batch.length === 0) break;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); // the caller at work on its batch (the worker gets to the run meanwhile)
          // the batches taken from runs take turns in two buffers: batch N + 1 is not where batch N was
          if (held.length > 0 && batch[0]!.payload.buffer !== held[0]!.payload.buffer && batch[0]!.payload.buffer instanceof SharedArrayBuffer) fromRuns++;
          at += held.length;
          held = batch;
          pos = batch[batch.length - 1]!.next;
        }
        expect(at + held.length).toBe(expected.offsets.length);
        expect(offload.jobs - jobs, 'nothing was read ahead').toBeGreaterThan(3);
        expect(fromRuns, 'no batch was taken from a run read ahead').toBeGreaterThan(3);
      }
    } finally {
      await journal.close();
    }
  });

  describe('a flipped bit in any field of a record inside a run read ahead fails the read as the ordinary read does', () => {
    // length, CRC32C, BLAKE3, payload (first and last bytes of each field), and the record's last byte
    const fieldBytes = [0, 3, 4, 7, 8, 39, 40, 41];

    // 'stolen': the worker still on each run when the reader is back, and not past its first record (this thread checks it all)
    for (const share of [1, 0.5, 0.25, 'stolen'] as const) {
      it(`the worker's share of a run ${share}`, { timeout: 60_000 }, async (ctx) => {
        const offload = readyOffload(ctx);
        ReadAhead.fixedShare = share === 'stolen' ? 1 : share;
        if (share === 'stolen') vi.spyOn(offload, 'steal').mockReturnValue(0);
        const dir = tempDir();
        const segments = segmentsOf(3);
        writeJournal(dir, segments);
        const { records, names } = layoutOf(segments);
        // in the middle of the first (sealed) segment, met by a reader; in the
        // last one, met by the writer (a reader's open would take damage in
        // the last segment for a torn tail still being written)
        for (const [victimIndex, by] of [[2400, 'reader'], [11_500, 'writer']] as const) {
          const victim = records[victimIndex]!;
          const path = `${dir}/${names[victim.segment]!}`;
          for (const k of [...fieldBytes, victim.size - 1]) {
            const what = `byte ${k} of the record at ${victim.offset} (by the ${by}), worker's share ${share}`;
            if (by === 'reader') flipBitInPlace(path, victim.position + k, k % 8);
            const journal = by === 'reader' ? await Journal.openForRead({ dir }) : await Journal.open({ dir });
            if (by === 'writer') flipBitInPlace(path, victim.position + k, k % 8);
            try {
              const alone = withoutChecksumOffload(() => readManyAll(journal, 1000));
              expect(alone.error, what).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset } });
              // the caller at work on each batch, as a rebuild is: the worker gets to each run (on a loaded machine it
              // may not, and the reader then reads the ordinary way: read again until the damage was in a run)
              let read = runsDuring(offload, () => readManyAll(journal, 1000, true, 2));
              const inRun = (runs: Array<[number, number]>): boolean => runs.some(([from, to]) => from <= victim.position && victim.position <= to); // at `to`: its length stopped the framing of the run
              for (let attempt = 0; attempt < 5 && !inRun(read.runs); attempt++) {
                expect(read.result.offsets, what).toEqual(alone.offsets);
                expect(String(read.result.error), what).toBe(String(alone.error));
                read = runsDuring(offload, () => readManyAll(journal, 1000, true, 2));
              }
              const { result: ahead, runs } = read;
              expect(inRun(runs), `${what}: the record was not in a run read ahead (${JSON.stringify(runs)})`).toBe(true);
              expect(ahead.offsets, what).toEqual(alone.offsets);
              expect(String(ahead.error), what).toBe(String(alone.error));
              expect(ahead.error, what).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset } });
              const iterated = await readFromAll(journal);
              expect(iterated.offsets, what).toEqual(alone.offsets);
              expect(iterated.error, what).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: victim.offset } });
            } finally {
              await journal.close();
            }
            flipBitInPlace(path, victim.position + k, k % 8);
          }
        }
      });
    }
  });

  it('a run taken back from the worker still on it: it stops at its next record, and vouches only for records before the position it gives', (ctx) => {
    const offload = readyOffload(ctx);
    // a run of 64 B records about the size of a read-ahead's, one of them damaged
    const buf = ChecksumOffload.sharedBytes(1024 * 1024);
    const boundaries = new Set<number>([0]);
    let end = 0;
    for (let i = 0; end + 104 <= buf.length; i++) {
      buf.set(encodeRecord(payloadOf(i, 64)), end);
      end += 104;
      boundaries.add(end);
    }
    const bad = 104 * 7000;
    buf[bad + 50]! ^= 0x04;
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    const idle = (): boolean => {
      for (let waited = 0; waited < 5000 && !offload.usable(1, 0); waited++) Atomics.wait(sleep, 0, 0, 1);
      return offload.usable(1, 0);
    };
    let stolen = 0;
    for (let round = 0; round < 50; round++) {
      expect(idle(), 'the worker did not stop').toBe(true);
      const ticket = offload.startJob(end, 0, { crcOnly: true, buffer: buf });
      if (round % 2 === 1) for (let spin = 0; spin < round * 2000; spin++) Math.sqrt(spin); // let the worker get some way first
      const at = offload.steal(ticket);
      if (at === undefined) {
        // the worker was done: its verdict names the damaged record
        expect(offload.finish(ticket, false)).toEqual({ position: bad, reason: 'crc-mismatch' });
        continue;
      }
      stolen++;
      expect(boundaries.has(at), `${at} is not a record boundary`).toBe(true);
      expect(at).toBeLessThanOrEqual(bad);
    }
    expect(idle()).toBe(true);
    expect(stolen, 'the worker was done first every time: nothing was taken back').toBeGreaterThan(0);
  });

  describe('falls back to the ordinary read, with the same records', () => {
    async function expectOrdinary(ctx: TestContext, setup: (offload: ChecksumOffload) => void, readAhead: 'none' | 'any'): Promise<void> {
      const offload = readyOffload(ctx);
      const dir = tempDir();
      writeJournal(dir, segmentsOf(4));
      const journal = await Journal.openForRead({ dir });
      try {
        const expected = withoutChecksumOffload(() => readManyAll(journal, 100_000));
        setup(offload);
        const { result, runs } = runsDuring(offload, () => readManyAll(journal, 1000));
        expect(result.error).toBeUndefined();
        expect(result.bytes).toEqual(expected.bytes);
        if (readAhead === 'none') expect(runs).toEqual([]);
        else expect(runs.length).toBeGreaterThan(0);
      } finally {
        await journal.close();
      }
    }

    it('the worker off', async (ctx) => {
      let before = true;
      try {
        await expectOrdinary(ctx, () => (before = ChecksumOffload.setEnabled(false)), 'none');
      } finally {
        ChecksumOffload.setEnabled(before);
      }
    });

    it('the worker busy with another job', async (ctx) => {
      await expectOrdinary(ctx, (offload) => vi.spyOn(offload, 'usable').mockReturnValue(false), 'none');
    });

    it('the worker still on the run when the reader is back: the reader checks the rest itself', async (ctx) => {
      await expectOrdinary(ctx, (offload) => vi.spyOn(offload, 'steal').mockReturnValue(0), 'any');
    });

    it("the worker's verdict unknown (given up, broken, or the job taken by another reader)", async (ctx) => {
      await expectOrdinary(ctx, (offload) => vi.spyOn(offload, 'finish').mockReturnValue('unchecked'), 'any');
    });

    it("the reader's buffer never reached the worker (it answers that it checked nothing)", async (ctx) => {
      // fresh buffers of a fresh handle: each is registered once, by a message dropped here
      await expectOrdinary(ctx, (offload) => vi.spyOn((offload as unknown as { port: MessagePort }).port, 'postMessage').mockImplementation(() => undefined), 'any');
    });

    it("a run found damaged by the worker when it is intact (a wrong verdict is re-read, never trusted as intact)", async (ctx) => {
      await expectOrdinary(ctx, (offload) => vi.spyOn(offload, 'finish').mockReturnValue({ position: 0, reason: 'crc-mismatch' }), 'any');
    });
  });
});
