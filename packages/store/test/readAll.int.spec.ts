/**
 * readAll reads the log in batches of records (not a record per async
 * step): over several batches and segments it yields every event once, in
 * global order, from any position; and a damaged record where a batch
 * begins is reported as damage (WAL_CORRUPT_RECORD naming its offset), as
 * the journal's readFrom reports it, after every event before it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { HEADER_SIZE, RECORD_OVERHEAD } from '@episteme/wal/internals';
import { openEventStore, type RecordedEvent } from '../src/index.js';
import { tempDir } from './helpers.js';

async function collect(it: AsyncIterable<RecordedEvent>): Promise<{ events: RecordedEvent[]; error: unknown }> {
  const events: RecordedEvent[] = [];
  try {
    for await (const e of it) events.push(e);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** 700 commits of 1-3 events over 40 streams, in several segments. */
async function fill(dir: string): Promise<{ perCommit: number[] }> {
  const store = await openEventStore({ dir, durability: 'none', maxSegmentBytes: 64 * 1024 });
  const perCommit: number[] = [];
  for (let c = 0; c < 700; c++) {
    const n = 1 + (c % 3);
    await store.appendToStream(`s-${c % 40}`, Array.from({ length: n }, (_, i) => ({ type: 't', data: { c, i } })));
    perCommit.push(n);
  }
  await store.close();
  return { perCommit };
}

describe('readAll in batches', () => {
  it('yields every event once, in global order, over several batches and segments, from any position', async () => {
    const dir = tempDir();
    const { perCommit } = await fill(dir);
    const store = await openEventStore({ dir });
    try {
      const { events, error } = await collect(store.readAll());
      expect(error).toBeUndefined();
      expect(events.length).toBe(perCommit.reduce((a, b) => a + b, 0));
      expect(events.map((e) => (e.data as { c: number }).c)).toEqual(perCommit.flatMap((n, c) => Array.from({ length: n }, () => c)));
      for (let i = 1; i < events.length; i++) expect(events[i]!.globalPosition).toBeGreaterThan(events[i - 1]!.globalPosition);
      // from positions inside the second and third batches (inside a commit too)
      for (const k of [300, 301, 600, events.length - 1]) {
        const from = await collect(store.readAll(events[k]!.globalPosition));
        expect(from.events.map((e) => e.globalPosition)).toEqual(events.slice(k).map((e) => e.globalPosition));
      }
    } finally {
      await store.close();
    }
  });

  it('a damaged record where a batch begins is WAL_CORRUPT_RECORD naming its offset, after every event before it', async () => {
    const dir = tempDir();
    const { perCommit } = await fill(dir);
    // the 257th record: the first of readAll's second batch of 256
    const journal = await Journal.openForRead({ dir });
    const records = journal.readMany(0, 300);
    const segments = journal.segmentList();
    await journal.close();
    const target = records[256]!;
    const seg = [...segments].reverse().find((s) => s.base <= target.offset)!;
    expect(seg.base, 'not at a segment base (a base is a boundary whatever its bytes say)').toBeLessThan(target.offset);
    expect(seg, 'in a sealed segment').not.toBe(segments[segments.length - 1]);
    const path = join(dir, seg.name);
    const bytes = readFileSync(path);
    bytes[HEADER_SIZE + (target.offset - seg.base) + RECORD_OVERHEAD + 3]! ^= 0x10; // a payload byte
    writeFileSync(path, bytes);

    const store = await openEventStore({ dir, scanSealedOnOpen: false });
    try {
      const { events, error } = await collect(store.readAll());
      expect(error).toMatchObject({ code: 'WAL_CORRUPT_RECORD', location: { offset: target.offset, reason: 'crc-mismatch' } });
      // every event of the 256 commits before it, none after
      expect(events.length).toBe(perCommit.slice(0, 256).reduce((a, b) => a + b, 0));
      expect(events[events.length - 1]!.globalPosition).toBeLessThan(target.offset);
    } finally {
      await store.close();
    }
  });

  it('readStream and aggregateStream of a stream with a damaged commit fail with WAL_CORRUPT_RECORD naming it', async () => {
    const dir = tempDir();
    await fill(dir);
    const store = await openEventStore({ dir });
    const { events } = await store.readStream('s-7');
    await store.close();
    // a commit of s-7 in the middle of a sealed segment, not its first record (a commit's first event is at its log position)
    const firsts = events.filter((e, i) => i === 0 || events[i - 1]!.globalPosition !== e.globalPosition - 1);
    const victim = firsts[Math.floor(firsts.length / 2)]!;
    const target = victim.globalPosition;
    const journal = await Journal.openForRead({ dir });
    const segments = journal.segmentList();
    await journal.close();
    const seg = [...segments].reverse().find((sg) => sg.base <= target)!;
    expect(seg.base).toBeLessThan(target);
    expect(seg).not.toBe(segments[segments.length - 1]);
    const path = join(dir, seg.name);
    const bytes = readFileSync(path);
    bytes[HEADER_SIZE + (target - seg.base) + RECORD_OVERHEAD + 5]! ^= 0x01;
    writeFileSync(path, bytes);
    const damaged = await openEventStore({ dir, scanSealedOnOpen: false });
    try {
      const damage = { code: 'WAL_CORRUPT_RECORD', location: { offset: target, reason: 'crc-mismatch' } };
      await expect(damaged.readStream('s-7')).rejects.toMatchObject(damage);
      await expect(damaged.aggregateStream('s-7', { initialState: () => 0, evolve: (n) => n + 1 })).rejects.toMatchObject(damage);
      // the events before it are still there to read
      const before = await damaged.readStream('s-7', { to: victim.streamPosition - 1 });
      expect(before.events.map((e) => e.streamPosition)).toEqual(events.slice(0, victim.streamPosition - 1).map((e) => e.streamPosition));
    } finally {
      await damaged.close();
    }
  });
});
