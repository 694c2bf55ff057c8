import { blake3 } from '@noble/hashes/blake3.js';
import { describe, expect, it } from 'vitest';
import { isWalError, Journal, WalErrorCodes, type LogReader, type LogRecord, type Retention } from '../src/index.js';
import { InMemoryLog } from '../src/testing/index.js';
import { tempDir } from './helpers.js';

const bytes = (s: string): Uint8Array => Buffer.from(s);
const text = (r: LogRecord | undefined): string | undefined => r && Buffer.from(r.payload).toString();

/** What `fn` throws (or rejects with); fails the test when it does neither. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

async function logWith(count: number, chunkRecords = 4): Promise<InMemoryLog> {
  const log = new InMemoryLog({ chunkRecords });
  await log.appendBatch(Array.from({ length: count }, (_, i) => bytes(`r${i}`)));
  return log;
}

describe('InMemoryLog positions', () => {
  it('are record sequence numbers from 0: next is offset + 1, and append resolves to the position and the BLAKE3 of the payload', async () => {
    const log = new InMemoryLog();
    const a = await log.append(bytes('first'));
    expect(a).toEqual({ offset: 0, next: 1, blake3: blake3(bytes('first')) });
    const batch = await log.appendBatch([bytes('b'), bytes('c')]);
    expect(batch.map((x) => [x.offset, x.next])).toEqual([[1, 2], [2, 3]]);
    expect(batch[1]!.blake3).toEqual(blake3(bytes('c')));
    expect(log.head).toBe(3);
    expect(log.earliest).toBe(0);
    const rec = log.read(1)!;
    expect(rec).toMatchObject({ offset: 1, next: 2 });
    expect(text(rec)).toBe('b');
    expect(rec.blake3).toEqual(blake3(bytes('b')));
    expect(log.read(3)).toBeUndefined(); // the head
    expect(log.readMany(0, 10).map(text)).toEqual(['first', 'b', 'c']);
    expect(log.readMany(1, 1).map(text)).toEqual(['b']);
    expect(log.countRecords(0)).toBe(3);
    expect(log.countRecords(1, 2)).toBe(1);
    expect(await log.appendBatch([])).toEqual([]);
  });

  it('takes appends in call order, publishing each before it resolves', async () => {
    const log = new InMemoryLog();
    const pending = [log.append(bytes('x')), log.append(bytes('y')), log.appendBatch([bytes('z1'), bytes('z2')])] as const;
    expect(log.head).toBe(0); // not yet published
    const [x, y, z] = await Promise.all(pending);
    expect([x.offset, y.offset, z.map((r) => r.offset)]).toEqual([0, 1, [2, 3]]);
    expect(log.readMany(0, 10).map(text)).toEqual(['x', 'y', 'z1', 'z2']);
  });

  it('keeps its own copies: changing an appended buffer or a record read changes nothing in the log', async () => {
    const log = new InMemoryLog();
    const payload = bytes('abc');
    await log.append(payload);
    payload[0] = 0x7a;
    const rec = log.read(0)!;
    rec.payload[1] = 0x7a;
    rec.blake3[0]! ^= 1;
    expect(text(log.read(0))).toBe('abc');
    expect(log.read(0)!.blake3).toEqual(blake3(bytes('abc')));
  });

  it('answers boundaries: every position in range, the head beyond it, -1 below the earliest retained', async () => {
    const log = await logWith(10);
    expect(log.boundaryAtOrBefore(5)).toBe(5);
    expect(log.boundaryAtOrBefore(10)).toBe(10);
    expect(log.boundaryAtOrBefore(99)).toBe(10);
    log.deleteBelow(8);
    expect(log.earliest).toBe(8);
    expect(log.boundaryAtOrBefore(7)).toBe(-1);
    expect(log.boundaryAtOrBefore(8)).toBe(8);
  });
});

describe('InMemoryLog reading from a position', () => {
  it('reads to the head and ends; with follow, waits for new records until the signal aborts', async () => {
    const log = await logWith(3);
    const all: string[] = [];
    for await (const r of log.readFrom(1)) all.push(text(r)!);
    expect(all).toEqual(['r1', 'r2']);

    const ac = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const r of log.readFrom(0, { follow: true, signal: ac.signal })) {
        seen.push(r.offset);
        if (seen.length === 5) ac.abort();
      }
    })();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([0, 1, 2]);
    await log.append(bytes('r3'));
    await log.append(bytes('r4'));
    await following;
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('waitBeyond resolves once the head passes the position, or on abort', async () => {
    const log = await logWith(2);
    await log.waitBeyond(1); // a record exists at 1
    let woke = false;
    const waiting = log.waitBeyond(2).then(() => (woke = true));
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    await log.append(bytes('r2'));
    await waiting;
    expect(woke).toBe(true);
    const ac = new AbortController();
    const aborted = log.waitBeyond(10, ac.signal);
    ac.abort();
    await aborted;
  });

  it('a follower waiting at the head gets WAL_CLOSED when the log closes', async () => {
    const log = await logWith(1);
    const reading = (async () => {
      for await (const r of log.readFrom(0, { follow: true })) void r;
    })();
    const waiting = log.waitBeyond(1);
    await new Promise((r) => setImmediate(r));
    await log.close();
    expect(isWalError(await failure(() => reading), WalErrorCodes.Closed)).toBe(true);
    expect(isWalError(await failure(() => waiting), WalErrorCodes.Closed)).toBe(true);
  });
});

describe('InMemoryLog retention', () => {
  it('deletes whole chunks below the position, oldest first, never the one holding the last record', async () => {
    const log = await logWith(10, 4); // chunks [0,4) [4,8) [8,10)
    expect(log.deleteBelow(3)).toEqual([]);
    expect(log.deleteBelow(7)).toEqual(['chunk-0']);
    expect(log.earliest).toBe(4);
    expect(log.deleteBelow(100)).toEqual(['chunk-4']);
    expect(log.earliest).toBe(8);
    expect(log.readMany(0 + 8, 10).map(text)).toEqual(['r8', 'r9']);
    expect(isWalError(await failure(() => log.read(4)), WalErrorCodes.OffsetOutOfRange)).toBe(true);
    expect(isWalError(await failure(() => log.readMany(7, 1)), WalErrorCodes.OffsetOutOfRange)).toBe(true);
    expect(isWalError(await failure(() => log.countRecords(0)), WalErrorCodes.OffsetOutOfRange)).toBe(true);
    // the last chunk stays even when full and passed by everyone
    await log.appendBatch([bytes('r10'), bytes('r11')]);
    expect(log.deleteBelow(log.head)).toEqual([]);
    expect(log.earliest).toBe(8);
    await log.append(bytes('r12'));
    expect(log.deleteBelow(log.head)).toEqual(['chunk-8']);
    expect(log.earliest).toBe(12);
    expect(text(log.read(12))).toBe('r12');
  });

  it('an empty log deletes nothing', () => {
    expect(new InMemoryLog().deleteBelow(0)).toEqual([]);
  });
});

describe('InMemoryLog state', () => {
  it('truncatedAt is undefined until a test sets it; refresh and makeDurable do nothing', async () => {
    const log = await logWith(3);
    expect(log.truncatedAt).toBeUndefined();
    log.truncatedAt = 2;
    expect(log.truncatedAt).toBe(2);
    log.refresh();
    await log.makeDurable();
    expect(log.head).toBe(3);
  });

  it('each log has its own location unless one is given', () => {
    expect(new InMemoryLog().location).not.toBe(new InMemoryLog().location);
    expect(new InMemoryLog({ location: 'events' }).location).toBe('events');
  });

  it('refuses bad options with WAL_INVALID_ARGUMENT', () => {
    for (const options of [{ chunkRecords: 0 }, { chunkRecords: 1.5 }, { maxPayloadBytes: -1 }, { location: '' }]) {
      expect(() => new InMemoryLog(options)).toThrow(expect.objectContaining({ code: WalErrorCodes.InvalidArgument }));
    }
  });

  it('keeps cursors in memory: copies in and out, names sorted, the floor is the cursor', () => {
    const { cursors } = new InMemoryLog();
    const state = { name: 'b', cursor: 3, committedAt: new Date(0).toISOString(), state: 'registered' as const };
    cursors.write(state);
    cursors.write({ ...state, name: 'a', cursor: 1 });
    state.cursor = 99;
    expect(cursors.read('b')!.cursor).toBe(3);
    cursors.read('b')!.cursor = 42;
    expect(cursors.readFloor('b')).toBe(3);
    expect(cursors.names()).toEqual(['a', 'b']);
    expect(cursors.remove('a')).toBe(true);
    expect(cursors.remove('a')).toBe(false);
    expect(cursors.read('a')).toBeUndefined();
    expect(cursors.readFloor('a')).toBeUndefined();
  });
});

/**
 * The same misuse against a journal and an InMemoryLog of the same records:
 * the same error code. Positions differ (bytes vs sequence), so each case
 * is given the position that means the same thing in each log.
 */
describe('InMemoryLog misuse gets the journal\'s typed errors', () => {
  interface Case {
    what: string;
    run: (log: LogReader & { append(p: Uint8Array): Promise<unknown>; appendBatch(p: Uint8Array[]): Promise<unknown> }, at: { head: number }) => unknown;
  }
  const cases: Case[] = [
    { what: 'read a negative offset', run: (log) => log.read(-1) },
    { what: 'read a fractional offset', run: (log) => log.read(1.5) },
    { what: 'read NaN', run: (log) => log.read(Number.NaN) },
    { what: 'read beyond the head', run: (log, { head }) => log.read(head + 1) },
    { what: 'readMany beyond the head', run: (log, { head }) => log.readMany(head + 1, 1) },
    { what: 'readMany a negative count', run: (log) => log.readMany(0, -1) },
    { what: 'readMany a fractional count', run: (log) => log.readMany(0, 1.5) },
    { what: 'readFrom beyond the head', run: async (log, { head }) => { for await (const r of log.readFrom(head + 1)) void r; } },
    { what: 'readFrom a negative offset', run: async (log) => { for await (const r of log.readFrom(-1)) void r; } },
    { what: 'countRecords from > to', run: (log, { head }) => log.countRecords(head, 0) },
    { what: 'countRecords beyond the head', run: (log, { head }) => log.countRecords(0, head + 1) },
    { what: 'boundaryAtOrBefore a negative offset', run: (log) => log.boundaryAtOrBefore(-1) },
    { what: 'deleteBelow a negative offset', run: (log) => (log as unknown as Retention).deleteBelow(-1) },
    { what: 'deleteBelow a fractional offset', run: (log) => (log as unknown as Retention).deleteBelow(0.5) },
    { what: 'append a string', run: (log) => log.append('x' as unknown as Uint8Array) },
    { what: 'appendBatch a non-array', run: (log) => log.appendBatch('x' as unknown as Uint8Array[]) },
    { what: 'appendBatch with one bad payload', run: (log) => log.appendBatch([bytes('ok'), 5 as unknown as Uint8Array]) },
  ];
  const closedCases: Case[] = [
    { what: 'read', run: (log) => log.read(0) },
    { what: 'readMany', run: (log) => log.readMany(0, 1) },
    { what: 'readFrom', run: async (log) => { for await (const r of log.readFrom(0)) void r; } },
    { what: 'waitBeyond', run: (log) => log.waitBeyond(0) },
    { what: 'countRecords', run: (log) => log.countRecords(0, 0) },
    { what: 'boundaryAtOrBefore', run: (log) => log.boundaryAtOrBefore(0) },
    { what: 'makeDurable', run: (log) => log.makeDurable() },
    { what: 'refresh', run: (log) => log.refresh() },
    { what: 'deleteBelow', run: (log) => (log as unknown as Retention).deleteBelow(0) },
    { what: 'append', run: (log) => log.append(bytes('x')) },
    { what: 'appendBatch([])', run: (log) => log.appendBatch([]) },
  ];

  async function both(): Promise<Array<[string, Journal | InMemoryLog]>> {
    const journal = await Journal.open({ dir: tempDir(), preallocateBytes: 0 });
    const memory = new InMemoryLog();
    for (const log of [journal, memory]) await log.appendBatch([bytes('a'), bytes('b'), bytes('c')]);
    return [['journal', journal], ['memory', memory]];
  }

  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_, c) => {
    const codes: Record<string, unknown> = {};
    for (const [name, log] of await both()) {
      const before = log.head;
      const err = await failure(() => c.run(log as never, { head: log.head }));
      codes[name] = isWalError(err) ? err.code : String(err);
      expect(log.head, `${name}: nothing appended`).toBe(before);
      await log.close();
    }
    expect(codes.memory).toBe(codes.journal);
    expect(String(codes.journal)).toMatch(/^WAL_/);
  });

  it.each(closedCases.map((c) => [c.what, c] as const))('%s once closed', async (_, c) => {
    for (const [name, log] of await both()) {
      await log.close();
      const err = await failure(() => c.run(log as never, { head: log.head }));
      expect(isWalError(err, WalErrorCodes.Closed), `${name}: ${String(err)}`).toBe(true);
    }
  });
});
