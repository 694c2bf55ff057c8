/**
 * The LogReader surface of the journal's two types: the writer
 * (`Journal.open`) and a reader in another process (`Journal.openForRead`).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, type LogReader, type Retention } from '../src/index.js';
import { payloadOf, snapshotDir, tempDir, thrown, writeJournal } from './helpers.js';

describe('the writer and a reader as LogReaders', () => {
  it('location is the directory; the writer reports where recovery cut the log, a reader nothing', async () => {
    const dir = tempDir();
    const { offsets, names } = writeJournal(dir, [[payloadOf(0, 10), payloadOf(1, 10)]]);
    appendFileSync(join(dir, names[0]!), new Uint8Array(30).fill(0xab)); // a torn record header after the last record
    const w = await Journal.open({ dir });
    const r = await Journal.openForRead({ dir });
    const [writerLog, readerLog]: [LogReader & Retention, LogReader] = [w, r];
    expect(writerLog.location).toBe(dir);
    expect(writerLog.truncatedAt).toBe(offsets[1]! + 50);
    expect(readerLog.location).toBe(dir);
    expect(readerLog.truncatedAt).toBeUndefined();
    await r.close();
    await w.close();
    const clean = await Journal.open({ dir });
    expect(clean.truncatedAt).toBeUndefined();
    await clean.close();
  });

  it('refresh brings a reader up to date; makeDurable syncs the writer and resolves at once on a reader, which changes no file', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir });
    await w.append(payloadOf(0, 10));
    await w.append(payloadOf(1, 10), { durability: 'none' });
    await w.makeDurable();
    await new Promise((r) => setImmediate(r)); // the head of an unsynced append is published on the next turn
    const r = await Journal.openForRead({ dir });
    expect(r.head).toBe(w.head);
    await w.append(payloadOf(2, 10));
    expect(r.head).toBeLessThan(w.head);
    r.refresh();
    expect(r.head).toBe(w.head);
    w.refresh(); // nothing to re-read
    await w.close();
    const before = snapshotDir(dir);
    await r.makeDurable();
    r.refresh();
    expect(snapshotDir(dir)).toEqual(before);
    await r.close();
    expect(thrown(() => r.refresh())).toMatchObject({ code: WalErrorCodes.Closed });
  });

  it('boundaryAtOrBefore: -1 below the earliest retained record, the head at or beyond it, for the writer and a reader', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, maxSegmentBytes: 300 });
    const offsets: number[] = [];
    for (let i = 0; i < 20; i++) offsets.push(((await w.append(payloadOf(i, 30))).offset));
    const deleted = w.deleteBelow(offsets[10]!);
    expect(deleted.length).toBeGreaterThan(0);
    const r = await Journal.openForRead({ dir });
    for (const log of [w, r] as LogReader[]) {
      expect(log.boundaryAtOrBefore(0)).toBe(-1);
      expect(log.boundaryAtOrBefore(log.earliest - 1)).toBe(-1);
      expect(log.boundaryAtOrBefore(log.earliest)).toBe(log.earliest);
      expect(log.boundaryAtOrBefore(log.head)).toBe(log.head);
      expect(log.boundaryAtOrBefore(log.head + 1000)).toBe(log.head);
      expect(thrown(() => log.boundaryAtOrBefore(-1))).toMatchObject({ code: WalErrorCodes.InvalidArgument });
    }
    await r.close();
    await w.close();
  });

  it('the writer\'s remembered boundaries never change an answer: after reads, walks and a deletion, every offset maps as a fresh walk says', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, maxSegmentBytes: 600 });
    const offsets: number[] = [];
    for (let i = 0; i < 40; i++) offsets.push((await w.append(payloadOf(i, 10 + (i % 7) * 5))).offset);
    const expected = (o: number): number => {
      let b = -1;
      for (const x of offsets) if (x <= o && x >= w.earliest) b = x;
      return o >= w.head ? w.head : b;
    };
    // remember what reads hand out and what walks find, in no particular order
    w.readMany(offsets[3]!, 5);
    for (const rec of w.readMany(offsets[20]!, 2)) void rec;
    w.read(offsets[30]!);
    for (let o = w.head - 1; o >= 0; o -= 7) expect(w.boundaryAtOrBefore(o), `offset ${o}`).toBe(expected(o));
    w.deleteBelow(offsets[15]!);
    for (let o = 0; o < w.head + 3; o++) expect(w.boundaryAtOrBefore(o), `offset ${o}`).toBe(expected(o));
    await w.close();
  });
});
