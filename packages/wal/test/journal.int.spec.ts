import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError, verifyJournal, type JournalRecord } from '../src/index.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../src/internals.js';
import { payloadOf, snapshotDir, tempDir } from './helpers.js';

async function collect(it: AsyncIterable<JournalRecord>): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('Journal', () => {
  it('creates a new directory with its first segment, appends at offset 0 and reads back after reopen', async () => {
    const dir = join(tempDir(), 'j');
    const j = await Journal.open({ dir });
    expect(j.head).toBe(0);
    expect(j.recovery?.cuts).toEqual([]);
    expect((await j.append(Buffer.from('hello'))).offset).toBe(0);
    expect((await j.append(new Uint8Array(0))).offset).toBe(45);
    expect(j.head).toBe(85);
    expect(j.read(0)).toMatchObject({ offset: 0, next: 45 });
    expect(Buffer.from(j.read(0)!.payload).toString()).toBe('hello');
    expect(j.read(85)).toBeUndefined();
    await j.close();
    const again = await Journal.open({ dir });
    expect(again.head).toBe(85);
    expect((await collect(again.readFrom(0))).map((r) => r.offset)).toEqual([0, 45]);
    await again.close();
    expect(verifyJournal(dir).ok).toBe(true);
  });

  it('rotates segments and keeps offsets global and dense; every offset reads back after reopen', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 1024, durability: 'none' });
    const offsets: number[] = [];
    for (let i = 0; i < 60; i++) offsets.push((await j.append(payloadOf(i, (i * 37) % 200))).offset);
    await j.close();
    const names = readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
    expect(names.length).toBeGreaterThan(5);
    for (const name of names.slice(0, -1)) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(1024);
    const r = await Journal.open({ dir });
    let expected = 0;
    for (let i = 0; i < 60; i++) {
      expect(offsets[i]).toBe(expected);
      const rec = r.read(offsets[i]!)!;
      expect(Buffer.from(rec.payload).equals(Buffer.from(payloadOf(i, (i * 37) % 200)))).toBe(true);
      expected = rec.next;
    }
    expect(r.head).toBe(expected);
    // first and last record of every segment resolve through the binary search
    for (const name of names) {
      const base = Number.parseInt(name.slice(0, 16), 16);
      expect(r.read(base)?.offset ?? r.head).toBe(base);
    }
    expect((await collect(r.readFrom(0))).length).toBe(60);
    await r.close();
  });

  it('gives a record larger than the segment limit a segment of its own', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 256 });
    await j.append(payloadOf(1, 10));
    const big = (await j.append(payloadOf(2, 1000))).offset;
    await j.append(payloadOf(3, 10));
    await j.close();
    const names = readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
    expect(names).toContain(big.toString(16).padStart(16, '0') + '.wal');
    expect(statSync(join(dir, names[1]!)).size).toBe(HEADER_SIZE + RECORD_OVERHEAD + 1000);
  });


  it('preallocates zeros ahead of the records, never past the segment limit', async () => {
    const dir = tempDir();
    const limit = 8 * 1024;
    const j = await Journal.open({ dir, maxSegmentBytes: limit, preallocateBytes: 4096 });
    const active = (): number => statSync(join(dir, j.segmentList().at(-1)!.name)).size;
    await j.append(payloadOf(1, 10));
    expect(active()).toBe(HEADER_SIZE + 4096); // one stretch ahead
    for (let i = 0; i < 40; i++) {
      await j.append(payloadOf(i, 300));
      // it used to preallocate past the limit (a segment of 64 KiB got 1 MiB of zeros), only to trim it at the seal
      expect(active()).toBeLessThanOrEqual(limit);
    }
    expect(j.segmentList().length).toBeGreaterThan(1);
    await j.close();
    expect(verifyJournal(dir).ok).toBe(true);
  });
  it('refuses a payload over maxPayloadBytes with a typed error and writes nothing', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxPayloadBytes: 100, preallocateBytes: 0 });
    await j.append(payloadOf(1, 100));
    const before = snapshotDir(dir);
    const err = await rejection(j.append(new Uint8Array(101)));
    expect(isWalError(err, WalErrorCodes.RecordTooLarge)).toBe(true);
    expect(isWalError(await rejection(j.appendBatch([new Uint8Array(1), new Uint8Array(101)])), WalErrorCodes.RecordTooLarge)).toBe(true);
    expect(snapshotDir(dir)).toEqual(before);
    expect(j.head).toBe(140);
    await j.close();
  });

  it('gives typed errors for offsets below earliest, beyond the head, and off a record boundary', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 200 });
    for (let i = 0; i < 10; i++) await j.append(payloadOf(i, 50));
    expect(isWalError(await rejection(() => j.read(j.head + 90)), WalErrorCodes.OffsetOutOfRange)).toBe(true);
    expect(isWalError(await rejection(() => j.read(3)), WalErrorCodes.NotRecordBoundary)).toBe(true);
    expect(isWalError(await rejection(() => j.read(-1)), WalErrorCodes.InvalidArgument)).toBe(true);
    expect(isWalError(await rejection(collect(j.readFrom(7))), WalErrorCodes.NotRecordBoundary)).toBe(true);
    const deleted = j.deleteBelow(450);
    expect(deleted.length).toBeGreaterThan(0);
    expect(j.earliest).toBeGreaterThan(0);
    expect(isWalError(await rejection(() => j.read(0)), WalErrorCodes.OffsetOutOfRange)).toBe(true);
    await j.close();
  });

  it('deleteBelow removes only whole sealed segments below the offset, never the active one', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 200 });
    for (let i = 0; i < 10; i++) await j.append(payloadOf(i, 50));
    const segs = () => readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
    const all = segs();
    const secondBase = Number.parseInt(all[1]!.slice(0, 16), 16);
    expect(j.deleteBelow(secondBase - 1)).toEqual([]);
    expect(j.deleteBelow(secondBase)).toEqual([all[0]]);
    expect(j.deleteBelow(Number.MAX_SAFE_INTEGER).length).toBe(all.length - 2);
    expect(segs()).toEqual([all[all.length - 1]]);
    expect(j.earliest).toBe(Number.parseInt(all[all.length - 1]!.slice(0, 16), 16));
    expect((await j.append(payloadOf(99, 5))).offset).toBeGreaterThan(0);
    await j.close();
  });

  it('appendBatch returns dense offsets and readFrom follows new records until aborted', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, groupCommit: true });
    const ac = new AbortController();
    const seen: number[] = [];
    const follower = (async () => {
      for await (const r of j.readFrom(0, { follow: true, signal: ac.signal })) {
        seen.push(r.offset);
        if (seen.length === 5) ac.abort();
      }
    })();
    const offsets = (await j.appendBatch([payloadOf(1, 1), payloadOf(2, 2)])).map((a) => a.offset);
    expect(offsets).toEqual([0, 41]);
    await Promise.all([j.append(payloadOf(3, 3)), j.append(payloadOf(4, 4)), j.append(payloadOf(5, 5))]);
    await follower;
    expect(seen).toEqual([0, 41, 83, 126, 170]);
    await j.close();
  });

  it('refuses a second writer in the same process with a locked error naming the holder', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    const err = await rejection(Journal.open({ dir }));
    expect(isWalError(err, WalErrorCodes.Locked)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^journal \\S+ is already open for writing in this process \\(pid ${process.pid}, since [0-9T:.Z-]+\\): use that writer, or close it first$`));
    await j.close();
    const k = await Journal.open({ dir });
    await k.close();
  });

  it('rejects appends after close with a closed error', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    await j.close();
    expect(isWalError(await rejection(j.append(new Uint8Array(1))), WalErrorCodes.Closed)).toBe(true);
    expect(isWalError(await rejection(() => j.read(0)), WalErrorCodes.Closed)).toBe(true);
  });

  it('a reader (openForRead) sees the writer\'s new records and segments, cannot write, and never changes a file', async () => {
    const dir = tempDir();
    const w = await Journal.open({ dir, maxSegmentBytes: 300 });
    await w.append(payloadOf(0, 10));
    const r = await Journal.openForRead({ dir });
    expect(r.head).toBe(50);
    for (let i = 1; i < 20; i++) await w.append(payloadOf(i, 30));
    expect(r.read(w.head)).toBeUndefined();
    const all = await collect(r.readFrom(0));
    expect(all.length).toBe(20);
    expect(r.head).toBe(w.head);
    // @ts-expect-error a reader has no append: writing through it is a compile error
    expect(() => r.append(new Uint8Array(1))).toThrow(TypeError);
    await w.close();
    const before = snapshotDir(dir);
    await collect(r.readFrom(0));
    await r.close();
    expect(snapshotDir(dir)).toEqual(before);
  });
});

describe('Journal batch reads for consumers', () => {
  it('readMany returns up to N records across segments without waiting, countRecords counts them, waitBeyond wakes on append', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 300 });
    const offsets = (await j.appendBatch(Array.from({ length: 30 }, (_, i) => payloadOf(i, 20)))).map((a) => a.offset);
    const first = j.readMany(0, 7);
    expect(first.map((r) => r.offset)).toEqual(offsets.slice(0, 7));
    const rest = j.readMany(first[6]!.next, 1000);
    expect(rest.map((r) => r.offset)).toEqual(offsets.slice(7));
    expect(j.readMany(j.head, 10)).toEqual([]);
    expect(j.countRecords(0)).toBe(30);
    expect(j.countRecords(offsets[10]!, offsets[20]!)).toBe(10);
    const head = j.head;
    let woke = false;
    const waiting = j.waitBeyond(head).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(woke).toBe(false);
    await j.append(payloadOf(99, 3));
    await waiting;
    expect(woke).toBe(true);
    const ac = new AbortController();
    const aborted = j.waitBeyond(j.head, ac.signal);
    ac.abort();
    await aborted;
    await j.close();
  });
});

describe('record content address', () => {
  it('read, readMany and readFrom return the stored BLAKE3 of each payload', async () => {
    const { blake3 } = await import('@noble/hashes/blake3.js');
    const dir = tempDir();
    const j = await Journal.open({ dir });
    const payloads = [payloadOf(1, 0), payloadOf(2, 100), payloadOf(3, 5000)];
    const offsets = (await j.appendBatch(payloads)).map((a) => a.offset);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const expected = payloads.map((p) => hex(blake3(p)));
    expect(offsets.map((o) => hex(j.read(o)!.blake3))).toEqual(expected);
    expect(j.readMany(0, 10).map((r) => hex(r.blake3))).toEqual(expected);
    expect((await collect(j.readFrom(0))).map((r) => hex(r.blake3))).toEqual(expected);
    await j.close();
  });

  it('append and appendBatch resolve to each record\'s offset, next and BLAKE3 without reading back, with group commit and without', async () => {
    const { blake3 } = await import('@noble/hashes/blake3.js');
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const groupCommit of [false, true]) {
      const j = await Journal.open({ dir: tempDir(), groupCommit, maxSegmentBytes: 4096 });
      const payloads = Array.from({ length: 40 }, (_, i) => payloadOf(i, (i * 53) % 300));
      // concurrent single appends (pipelined batches under group commit: the encoding buffer is reused) and batches
      const appended = [
        ...(await Promise.all(payloads.slice(0, 20).map((p) => j.append(p)))),
        ...(await j.appendBatch(payloads.slice(20, 30))),
        ...(await Promise.all([j.appendBatch(payloads.slice(30, 35)), j.appendBatch(payloads.slice(35))])).flat(),
      ];
      const read = j.readMany(0, 100);
      expect(appended.map((a) => [a.offset, a.next, hex(a.blake3)]), `groupCommit ${groupCommit}`).toEqual(read.map((r) => [r.offset, r.next, hex(r.blake3)]));
      expect(appended.map((a) => hex(a.blake3))).toEqual(payloads.map((p) => hex(blake3(p))));
      expect(appended.at(-1)!.next).toBe(j.head);
      await j.close();
    }
  });
});

describe('boundaryAtOrBefore', () => {
  it('finds the record boundary at or before any offset, across segments, from remembered boundaries too', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir, maxSegmentBytes: 400 });
    // a payload that holds a well-formed record: a boundary check must not be fooled by it
    const inner = (await import('../src/internals.js')).encodeRecord(payloadOf(7, 10));
    const offsets = (await j.appendBatch([payloadOf(1, 20), inner, payloadOf(2, 0)])).map((a) => a.offset);
    const more: number[] = [];
    for (let i = 0; i < 20; i++) more.push((await j.append(payloadOf(i, 30))).offset);
    const all = [...offsets, ...more];
    for (let k = 0; k < all.length; k++) {
      const start = all[k]!;
      const next = all[k + 1] ?? j.head;
      for (let o = start; o < next; o++) expect(j.boundaryAtOrBefore(o), `offset ${o}`).toBe(start);
      expect(j.boundaryAtOrBefore(start)).toBe(start); // walked from the boundary the loop above remembered
    }
    expect(j.boundaryAtOrBefore(offsets[1]! + 40)).toBe(offsets[1]); // inside the payload that looks like a record
    expect(j.boundaryAtOrBefore(j.head + 100)).toBe(j.head);
    await j.close();
  });
});

describe('the event loop while appending', () => {
  it('keeps running timers while a caller appends in a tight loop with appends that wait on no I/O', async () => {
    for (const options of [{ durability: 'none' as const }, { durability: 'immediate' as const }]) {
      const j = await Journal.open({ dir: tempDir(), ...options });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const end = performance.now() + 300;
      while (performance.now() < end) await j.append(payloadOf(1, 16));
      clearInterval(timer);
      await j.close();
      expect(ticks, JSON.stringify(options)).toBeGreaterThan(5);
    }
  });
});
