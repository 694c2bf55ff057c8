import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWalError, Journal, WalErrorCodes, type JournalRecord } from '../src/index.js';
import { crc32cJs, RECORD_OVERHEAD } from '../src/internals.js';
import { ReadAhead } from '../src/journal/readAhead.js';
import { HEADER_SIZE, payloadOf, readyOffload, tempDir, withoutChecksumOffload } from './helpers.js';
import { seededRandom } from './rng.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const plain = (r: JournalRecord) => ({ offset: r.offset, next: r.next, payload: hex(r.payload), blake3: hex(r.blake3) });

/** Every record from 0 in readMany batches of `batch`, or the typed error that stopped the reading. */
function readAll(journal: Journal, batch: number): { records: ReturnType<typeof plain>[]; error?: unknown } {
  const records: ReturnType<typeof plain>[] = [];
  let pos = 0;
  try {
    for (;;) {
      const got = journal.readMany(pos, batch);
      if (got.length === 0) return { records };
      for (const r of got) records.push(plain(r));
      pos = got[got.length - 1]!.next;
    }
  } catch (error) {
    return { records, error };
  }
}

async function journalOf(count: number, seed: number): Promise<{ journal: Journal; dir: string; offsets: number[]; sizes: number[] }> {
  const dir = tempDir();
  const journal = await Journal.open({ dir, durability: 'none', maxSegmentBytes: 1536 * 1024, verifyOnRead: 'full' });
  const rnd = seededRandom(seed);
  const sizes = Array.from({ length: count }, () => 20 + Math.floor(rnd() * 700));
  // single appends in one tick: written together, split at segment boundaries
  const offsets = (await Promise.all(sizes.map((n, i) => journal.append(payloadOf(i, n))))).map((a) => a.offset);
  expect(journal.segmentList().length).toBeGreaterThan(1);
  return { journal, dir, offsets, sizes };
}

// read-ahead hands the worker each record's BLAKE3: it runs for readers that check it (verifyOnRead: 'full')
describe('read-ahead (the worker verifies the next batch while the caller works)', () => {
  it('returns the same records as reading with every check on the main thread, for every batch size and interleaving', async (ctx) => {
    const offload = readyOffload(ctx);
    const { journal } = await journalOf(9000, 1);
    const expected = withoutChecksumOffload(() => readAll(journal, 100_000));
    expect(expected.records).toHaveLength(9000);
    for (const batch of [1, 256, 1000, 4096]) {
      const jobs = offload.jobs;
      const got = readAll(journal, batch);
      expect(got.error).toBeUndefined();
      expect(got.records, `batches of ${batch}`).toEqual(expected.records);
      if (batch >= 256) expect(offload.jobs - jobs, `batches of ${batch}: nothing was read ahead`).toBeGreaterThan(0);
    }
    // two readers taking turns: each one's read-ahead is the other's miss
    const a: ReturnType<typeof plain>[] = [];
    const b: ReturnType<typeof plain>[] = [];
    let pa = 0;
    let pb = 0;
    for (let turn = 0; turn < 200; turn++) {
      const ra = journal.readMany(pa, 300);
      for (const r of ra) a.push(plain(r));
      if (ra.length) pa = ra[ra.length - 1]!.next;
      const rb = journal.readMany(pb, 700);
      for (const r of rb) b.push(plain(r));
      if (rb.length) pb = rb[rb.length - 1]!.next;
    }
    expect(a).toEqual(expected.records);
    expect(b).toEqual(expected.records);
    const iterated: ReturnType<typeof plain>[] = [];
    for await (const r of journal.readFrom(0)) iterated.push(plain(r));
    expect(iterated).toEqual(expected.records);
    await journal.close();
  });

  it('damage inside a run read ahead is reported exactly as without read-ahead: same error, same records before it, whichever thread checks it', async (ctx) => {
    const offload = readyOffload(ctx);
    try {
      for (const kind of ['bit flip', 'wrong digest, valid CRC'] as const) {
        const { journal, dir, offsets, sizes } = await journalOf(9000, kind === 'bit flip' ? 2 : 3);
        const segment = join(dir, journal.segmentList()[0]!.name);
        await journal.close();
        const clean = readFileSync(segment);
        // records of the first (sealed) segment, past the first batches, at
        // several places of a run read ahead: with the worker's share pinned
        // low, this thread checks the start of each run, the worker the rest
        for (const victim of [1500, 1580, 1660]) {
          const bytes = Buffer.from(clean);
          const at = HEADER_SIZE + offsets[victim]!;
          expect(at + RECORD_OVERHEAD + sizes[victim]!).toBeLessThan(bytes.length);
          if (kind === 'bit flip') {
            bytes[at + RECORD_OVERHEAD + 3]! ^= 0x20;
          } else {
            bytes[at + 8]! ^= 0x01;
            const end = at + RECORD_OVERHEAD + sizes[victim]!;
            bytes.writeUInt32LE(crc32cJs(bytes, at + 8, end, crc32cJs(bytes, at, at + 4, 0)), at + 4);
          }
          writeFileSync(segment, bytes);
          for (const share of [1, 0.5, 0.25]) {
            ReadAhead.fixedShare = share;
            const reader = await Journal.open({ dir, verifyOnRead: 'full' }); // the recovery point vouches for the sealed segment: its damage is met by the reads
            const alone = withoutChecksumOffload(() => readAll(reader, 256));
            const jobs = offload.jobs;
            const ahead = readAll(reader, 256);
            const what = `${kind}, record ${victim}, worker's share ${share}`;
            expect(offload.jobs - jobs, `${what}: nothing was read ahead`).toBeGreaterThan(0);
            expect(isWalError(alone.error, WalErrorCodes.CorruptRecord), `${what}: ${String(alone.error)} after ${alone.records.length} records`).toBe(true);
            expect(ahead.records, what).toEqual(alone.records);
            expect(ahead.records.length).toBeGreaterThan(1000); // readMany throws for a batch that meets the damage
            expect(ahead.records.length).toBeLessThanOrEqual(victim);
            expect(String(ahead.error)).toBe(String(alone.error));
            expect(ahead.error).toMatchObject({ code: WalErrorCodes.CorruptRecord, location: { offset: offsets[victim], reason: kind === 'bit flip' ? 'crc-mismatch' : 'blake3-mismatch' } });
            await reader.close();
          }
        }
      }
    } finally {
      ReadAhead.fixedShare = undefined;
    }
  });

  it('records copied out of a run read ahead stay whole and apart: large ones past a copy chunk, and kept across later batches', async (ctx) => {
    const offload = readyOffload(ctx);
    const dir = tempDir();
    const journal = await Journal.open({ dir, durability: 'none', verifyOnRead: 'full' });
    const rnd = seededRandom(5);
    // mostly records of 40-120 KiB, some of 260-600 KiB: larger than the
    // 256 KiB chunks records are copied into, inside runs read ahead
    const sizes = Array.from({ length: 160 }, () => (rnd() < 0.2 ? 260 : 40) * 1024 + Math.floor(rnd() * 340 * 1024 * (rnd() < 0.2 ? 1 : 0.25)));
    await Promise.all(sizes.map((n, i) => journal.append(payloadOf(i, n))));
    const expected = withoutChecksumOffload(() => readAll(journal, 100_000));
    expect(expected.records).toHaveLength(sizes.length);
    for (const batch of [3, 16]) {
      const jobs = offload.jobs;
      // every record kept as handed out (views into the shared chunks), compared only at the end
      const kept: JournalRecord[] = [];
      for (let pos = 0; ; ) {
        const got = journal.readMany(pos, batch);
        if (got.length === 0) break;
        kept.push(...got);
        pos = got[got.length - 1]!.next;
      }
      expect(offload.jobs - jobs, `batches of ${batch}: nothing was read ahead`).toBeGreaterThan(0);
      expect(kept.map(plain), `batches of ${batch}`).toEqual(expected.records);
    }
    await journal.close();
  });

  it('splits a run between the worker and this thread: the same records for every share', async (ctx) => {
    const offload = readyOffload(ctx);
    const { journal } = await journalOf(9000, 4);
    const expected = withoutChecksumOffload(() => readAll(journal, 100_000));
    try {
      for (const share of [0.25, 0.5, 0.75, 1]) {
        ReadAhead.fixedShare = share;
        const jobs = offload.jobs;
        const got = readAll(journal, 256);
        expect(got.error).toBeUndefined();
        expect(got.records, `worker's share ${share}`).toEqual(expected.records);
        expect(offload.jobs - jobs).toBeGreaterThan(0);
      }
    } finally {
      ReadAhead.fixedShare = undefined;
    }
    await journal.close();
  });
});
