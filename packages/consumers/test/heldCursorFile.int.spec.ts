import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileIO, type FileIO } from '@episteme/wal';
import { ConsumerErrorCodes, ConsumerRegistry, FileCursorStore, runConsumer } from '../src/index.js';
import { journalWith, quiet } from './helpers.js';

/** Descriptors of this process open on `path`. */
function openOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed since the listing
    }
  }
  return n;
}

/** A handler's wait of about a millisecond: a run of a few hundred records spans many commits, even on a slow disk. */
const nextTurn = (): Promise<void> => new Promise((res) => setTimeout(res, 1));

describe('a run holds its cursor file open for its commits', () => {
  it('one descriptor while the run lasts, none once it ended, and every commit on disk', async () => {
    const journal = await journalWith(400);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
    registry.register('c');
    const path = join(journal.dir, 'consumers', 'c.cursor');
    const during: number[] = [];
    const commits: number[] = [];
    let handled = 0;
    const result = await runConsumer(registry, 'c', {
      handler: () => {
        if (handled++ % 100 === 0) during.push(openOn(path));
        // a promise each time, so that commits complete while the run goes on, many of them
        return nextTurn();
      },
      commitEveryRecords: 20,
      onCommit: (cursor) => void commits.push(cursor),
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', handled: 400, cursor: journal.head });
    expect(commits.length).toBeGreaterThan(2);
    expect(during.every((n) => n === 1)).toBe(true);
    expect(openOn(path)).toBe(0);
    expect(new FileCursorStore(journal.dir).read('c')).toMatchObject({ cursor: journal.head, state: 'stopped' });
  });

  it('reads the file again at each commit: a commit written under the run in this process is checked against, as when each commit opened the file', async () => {
    const journal = await journalWith(400);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
    registry.register('c');
    let moved = false;
    const result = await runConsumer(registry, 'c', {
      handler: () => nextTurn(),
      commitEveryRecords: 20,
      // once the run's first commit is durable: the cursor moves to the head behind the run's back
      onCommit: () => {
        if (!moved) registry.commit('c', journal.head);
        moved = true;
      },
      stopAtHead: true,
    });
    // the run's next commit is below what the file now holds: refused, the run fails, the file keeps the head
    expect(result.state).toBe('failed');
    expect(result.error).toMatchObject({ code: ConsumerErrorCodes.CursorBackwards });
    expect(new FileCursorStore(journal.dir).read('c')!.cursor).toBe(journal.head);
  });

  it('another store of this process replaces the file under the run: the run lets its descriptor go, and each commit it reports durable is in the file at its path', async () => {
    const journal = await journalWith(400);
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet, autoCleanup: false });
    registry.register('c');
    // a second registry of the journal whose first cursor sync fails: its next commit of c rewrites the file whole, by rename
    let failed = false;
    const io: FileIO = {
      ...nodeFileIO,
      fsync: (fd) => {
        if (failed) return nodeFileIO.fsync(fd);
        failed = true;
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      },
    };
    const other = ConsumerRegistry.forJournal(journal, { io, logger: quiet, autoCleanup: false });
    const mismatches: string[] = [];
    let commits = 0;
    let afterReplace = 0;
    const result = await runConsumer(registry, 'c', {
      handler: () => nextTurn(),
      commitEveryRecords: 20,
      onCommit: (cursor) => {
        commits++;
        const onDisk = new FileCursorStore(journal.dir).read('c')!.cursor;
        if (onDisk !== cursor) mismatches.push(`reported ${cursor}, the file holds ${onDisk}`);
        if (commits === 2) {
          expect(() => other.commit('c', cursor)).toThrow(); // its sync fails: to that store the file is suspect now
          other.commit('c', cursor); // written whole and renamed over the file the run holds
        } else if (commits > 2) afterReplace++;
      },
      stopAtHead: true,
    });
    expect(result).toMatchObject({ state: 'stopped', cursor: journal.head });
    expect(afterReplace).toBeGreaterThan(2);
    expect(mismatches).toEqual([]);
  });

  it('a commit whose sync fails: the run stops failed with CONSUMER_IO, lets the file go, and the next commit rewrites it whole', async () => {
    const journal = await journalWith(400);
    let syncs = 0;
    const io: FileIO = { ...nodeFileIO, fsyncAsync: (fd) => (++syncs === 3 ? Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })) : nodeFileIO.fsyncAsync(fd)) };
    const registry = ConsumerRegistry.forJournal(journal, { io, logger: quiet, autoCleanup: false });
    registry.register('c');
    const path = join(journal.dir, 'consumers', 'c.cursor');
    const durable: number[] = [];
    let last = 0;
    const result = await runConsumer(registry, 'c', {
      handler: (r) => {
        last = r.next;
        return nextTurn();
      },
      commitEveryRecords: 20,
      onCommit: (cursor) => void durable.push(cursor),
      stopAtHead: true,
    });
    expect(result.state).toBe('failed');
    expect(result.error).toMatchObject({ code: ConsumerErrorCodes.Io });
    expect(durable).toHaveLength(2);
    expect(openOn(path)).toBe(0);
    // the final commit (the failed state) rewrote the file whole: it holds what was handled, readable
    const stored = new FileCursorStore(journal.dir).read('c')!;
    expect(stored).toMatchObject({ state: 'failed', cursor: result.cursor });
    expect(stored.cursor).toBeGreaterThanOrEqual(durable[1]!);
    expect(stored.cursor).toBeLessThanOrEqual(last);
    // and the next run goes on from there with the file held again
    const again = await runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true });
    expect(again).toMatchObject({ state: 'stopped', cursor: journal.head });
  });
});
