import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRelay } from '../src/index.js';
import { streamLeader } from '../src/testing/index.js';
import { spawnChild } from '../../wal/test/children/spawn.js';
import { CLUSTER_TEST_TIMEOUT, appendRecords, differenceFromJournal, journalWith, skipReason, streamContents, tempDir, useCluster } from './helpers.js';

const RELAY_CHILD = join(import.meta.dirname, 'children', 'relayChild.ts');
const KILLS = 5;

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.skipIf(skipReason !== undefined)('relay exactly once through kills', () => {
  const { cluster, nc } = useCluster();

  it(`holds every record exactly once, in order, after ${KILLS} SIGKILLs of the relay process at random moments`, async () => {
    const rnd = seededRandom(26);
    const dir = tempDir();
    const journal = await journalWith(100_000, { dir });
    const servers = cluster().servers.join(',');
    let killedAfter = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawnChild(RELAY_CHILD, [dir, servers, 'relay_kills']);
      // killed once it has shipped something in this run, a random while later
      await child.waitFor((l) => l.startsWith('progress') && Number(l.split(' ')[1]) > 0, 120_000);
      await new Promise((r) => setTimeout(r, rnd() * 400));
      child.proc.kill('SIGKILL');
      await child.exited;
      const last = child.lines.filter((l) => l.startsWith('progress')).pop();
      if (last !== undefined) killedAfter++;
    }
    expect(killedAfter).toBe(KILLS);
    const stored = await streamContents(nc(), 'relay_kills');
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThan(100_000); // the kills cut runs short: the last run has work left
    const final = spawnChild(RELAY_CHILD, [dir, servers, 'relay_kills']);
    const done = await final.waitFor((l) => l.startsWith('done'), 180_000);
    expect(Number(done.split(' ')[2])).toBe(journal.head);
    expect(await differenceFromJournal(journal, await streamContents(nc(), 'relay_kills'))).toBeUndefined();
  }, CLUSTER_TEST_TIMEOUT);

  it('holds every record exactly once after a SIGKILL of the stream leader while relaying, and goes on', async () => {
    const journal = await journalWith(30_000);
    let killed: string | undefined;
    let killing: Promise<void> | undefined;
    let shippedSoFar = 0;
    let shippedWhenKilled = Number.NaN;
    const result = await runRelay(journal, {
      servers: cluster().servers,
      stream: 'relay_failover',
      window: 512,
      progressEveryMs: 50,
      onProgress: (p) => {
        shippedSoFar = p.shipped;
        if (killing === undefined && p.shipped > 3000) {
          killing = (async () => {
            killed = await streamLeader(nc(), 'relay_failover');
            await cluster().kill(killed);
            shippedWhenKilled = shippedSoFar;
          })();
        }
      },
    });
    await killing;
    expect(killed).toBeDefined();
    expect(result.position).toBe(journal.head);
    expect(shippedWhenKilled).toBeLessThan(30_000); // the leader died mid-run
    expect(result.resyncs).toBeGreaterThan(0);
    await cluster().restart(killed!);
    expect(await differenceFromJournal(journal, await streamContents(nc(), 'relay_failover'))).toBeUndefined();
    // and relaying goes on through the new leader
    await appendRecords(journal, 30_000, 2000);
    expect((await runRelay(journal, { servers: cluster().servers, stream: 'relay_failover' })).shipped).toBe(2000);
    expect(await differenceFromJournal(journal, await streamContents(nc(), 'relay_failover'))).toBeUndefined();
  }, CLUSTER_TEST_TIMEOUT);
});
