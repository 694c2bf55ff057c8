import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openEventStore, type StoreWarning } from '../src/index.js';
import { checkpointPath } from '../src/index/checkpoint.js';
import { foldVersions, readCommits, tempDir } from './helpers.js';

async function fill(dir: string, commits: number, from = 0, tag = 'e'): Promise<void> {
  const store = await openEventStore({ dir, durability: 'none' });
  for (let i = from; i < from + commits; i++) {
    await store.appendToStream(`s-${i % 37}`, [{ id: `${tag}${i}`, type: 't', data: { i } }, { id: `${tag}${i}b`, type: 't', data: { i } }]);
  }
  await store.close();
}

/** What the index says of every stream, against a fold of the log. */
async function expectIndexIsFoldOfLog(dir: string): Promise<void> {
  const { versions, violations } = foldVersions(await readCommits({ dir }));
  expect(violations).toEqual([]);
  const store = await openEventStore({ dir });
  for (const [stream, version] of versions) {
    const read = await store.readStream(stream);
    expect(read.currentVersion, stream).toBe(version);
    expect(read.events.map((e) => e.streamPosition)).toEqual(Array.from({ length: version }, (_, k) => k + 1));
  }
  expect(store.streamCount).toBe(versions.size);
  await store.close();
}

describe('the stream index', () => {
  it('an open after a clean close reads no record of the log, however long the log grows', async () => {
    const dir = tempDir();
    for (const round of [0, 1, 2]) {
      await fill(dir, 200 * (round + 1), 1000 * round);
      const store = await openEventStore({ dir });
      expect(store.openStats, `round ${round}`).toEqual({ source: 'checkpoint', recordsReplayed: 0 });
      await store.close();
    }
    await expectIndexIsFoldOfLog(dir);
  });

  it('without a clean close, the open replays only the records after the last periodic checkpoint', async () => {
    const dir = tempDir();
    await fill(dir, 300);
    // a store that is never closed: copy its files aside as a crash would leave them
    const store = await openEventStore({ dir, checkpointEvery: 50 });
    for (let i = 0; i < 180; i++) await store.appendToStream('tail', [{ type: 't', data: i }]);
    await new Promise((r) => setTimeout(r, 20)); // the periodic checkpoint runs once idle
    const crashed = tempDir();
    const { cpSync } = await import('node:fs');
    cpSync(dir, crashed, { recursive: true });
    await store.close();
    rmSync(`${crashed}/LOCK`, { force: true });
    const reopened = await openEventStore({ dir: crashed });
    expect(reopened.openStats.source).toBe('checkpoint');
    expect(reopened.openStats.recordsReplayed).toBeLessThanOrEqual(50);
    expect((await reopened.readStream('tail', { maxCount: 0 })).currentVersion).toBe(180);
    await reopened.close();
    await expectIndexIsFoldOfLog(crashed);
  });

  it('checkpoints periodically under a load that never idles: a crash then replays about checkpointEvery records', async () => {
    const dir = tempDir();
    const crashed = tempDir();
    const { cpSync } = await import('node:fs');
    const store = await openEventStore({ dir, groupCommit: true, checkpointEvery: 200 });
    let n = 0;
    let copied = false;
    await Promise.all(
      Array.from({ length: 32 }, async (_, a) => {
        while (n < 3000) {
          await store.appendToStream(`busy-${a % 5}`, [{ type: 't', data: n++ }]);
          if (n >= 2500 && !copied) {
            copied = true;
            cpSync(dir, crashed, { recursive: true }); // the files as a SIGKILL now would leave them
          }
        }
      }),
    );
    await store.close();
    rmSync(`${crashed}/LOCK`, { force: true });
    const reopened = await openEventStore({ dir: crashed });
    expect(reopened.openStats.source).toBe('checkpoint');
    expect(reopened.openStats.recordsReplayed).toBeLessThanOrEqual(200 + 64);
    await reopened.close();
    await expectIndexIsFoldOfLog(crashed);
  });

  it('removes the temporary file of a checkpoint write that a crash interrupted', async () => {
    const dir = tempDir();
    await fill(dir, 3);
    const { existsSync } = await import('node:fs');
    const tmp = `${checkpointPath(dir)}.4242.0123456789ab.tmp`;
    writeFileSync(tmp, 'half a checkpoint');
    const store = await openEventStore({ dir });
    expect(store.openStats).toEqual({ source: 'checkpoint', recordsReplayed: 0 });
    expect(existsSync(tmp)).toBe(false);
    await store.close();
  });

  const damages: Array<[string, StoreWarning['reason'], (path: string, otherDir: string) => void]> = [
    ['deleted', 'missing', (p) => rmSync(p)],
    ['truncated', 'damaged', (p) => writeFileSync(p, readFileSync(p).subarray(0, 100))],
    ['a flipped bit', 'damaged', (p) => {
      const b = readFileSync(p);
      b[b.length >> 1]! ^= 4;
      writeFileSync(p, b);
    }],
    ['emptied', 'damaged', (p) => writeFileSync(p, Buffer.alloc(0))],
    ['from another log', 'stale', (p, other) => copyFileSync(checkpointPath(other), p)],
  ];
  for (const [what, reason, damage] of damages) {
    it(`is rebuilt from the log when its checkpoint is ${what}, with a ${reason} warning and nothing lost`, async () => {
      const dir = tempDir();
      const other = tempDir();
      await fill(dir, 120);
      await fill(other, 30);
      damage(checkpointPath(dir), other);
      const warnings: StoreWarning[] = [];
      const store = await openEventStore({ dir, onWarning: (w) => warnings.push(w) });
      expect(warnings.map((w) => [w.code, w.reason])).toEqual([['STORE_INDEX_REBUILT', reason]]);
      expect(store.warnings).toEqual(warnings);
      expect(store.openStats).toEqual({ source: reason, recordsReplayed: 120 });
      // retries are still recognised after the rebuild
      expect((await store.appendToStream('s-0', [{ id: 'e0', type: 't', data: { i: 0 } }, { id: 'e0b', type: 't', data: { i: 0 } }])).alreadyAppended).toBe(true);
      await store.close();
      await expectIndexIsFoldOfLog(dir);
      // the rebuild wrote a checkpoint: the next open reads nothing
      const again = await openEventStore({ dir });
      expect(again.openStats).toEqual({ source: 'checkpoint', recordsReplayed: 0 });
      await again.close();
    });
  }

  it('a checkpoint ahead of a log that a crash cut is stale: the index is rebuilt, never taken for the log', async () => {
    const dir = tempDir();
    await fill(dir, 50);
    const saved = readFileSync(checkpointPath(dir));
    await fill(dir, 50, 50);
    // a log cut below the checkpoint and grown past it again: records of the same sizes, other content
    for (const [commits, tag] of [[49, 'e'], [80, 'x']] as const) {
      const other = tempDir();
      await fill(other, commits, 0, tag);
      writeFileSync(checkpointPath(other), saved);
      const store = await openEventStore({ dir: other });
      expect(store.openStats.source, `${commits} ${tag}`).toBe('stale');
      await store.close();
      await expectIndexIsFoldOfLog(other);
    }
  });
});

describe('checkStreams (internals)', () => {
  it('folds a log without the store and agrees with the store and with the tests own fold', async () => {
    const { checkStreams } = await import('@episteme/store/internals');
    const { Journal } = await import('@episteme/wal');
    const dir = tempDir();
    await fill(dir, 100);
    const store = await openEventStore({ dir });
    await store.deleteStream('s-3');
    await store.close();
    const journal = await Journal.openForRead({ dir });
    const check = await checkStreams(journal);
    await journal.close();
    expect(check.violations).toEqual([]);
    expect([check.commits, check.events, check.tombstones]).toEqual([100, 200, 1]);
    expect(check.versions).toEqual(foldVersions(await readCommits({ dir })).versions);
  });
});
