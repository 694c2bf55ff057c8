import { describe, expect, it } from 'vitest';
import { getEpistemeEventStore, type EpistemeReadEvent } from '../src/index.js';
import { cartStream } from '../examples/shoppingCart/shoppingCart.js';
import { spawnChild, type Child } from '../../wal/test/children/spawn.js';
import { join } from 'node:path';
import { seededRandom, tempDir } from './helpers.js';

const KILLS = 12;

interface Ack {
  cart: string;
  version: bigint;
  globalPosition: bigint;
}

/**
 * Every command in the log is whole (its 3 events, parts 0..2, one after
 * the other in its cart), and every acknowledged command is there at the
 * version and global position it was acknowledged with.
 */
async function check(dir: string, acks: Map<string, Ack>, at: string): Promise<number> {
  const store = await getEpistemeEventStore({ dir });
  try {
    const found = new Map<string, EpistemeReadEvent[]>();
    for (let c = 0; c < 6; c++) {
      const { events } = await store.readStream(cartStream(`cart${c}`));
      for (let i = 0; i < events.length; ) {
        const meta = (e: EpistemeReadEvent): { causationId?: string; part?: number } => e.metadata as never;
        const id = meta(events[i]!).causationId!;
        const run = events.slice(i, i + 3);
        expect(run.map((e) => [meta(e).causationId, meta(e).part]), `${at}: command ${id} is whole`).toEqual([[id, 0], [id, 1], [id, 2]]);
        expect(found.has(id), `${at}: ${id} is in the log once`).toBe(false);
        found.set(id, run);
        i += 3;
      }
    }
    for (const [id, ack] of acks) {
      const run = found.get(id);
      expect(run, `${at}: acknowledged command ${id}`).toBeDefined();
      expect(run![0]!.metadata.streamName).toBe(cartStream(ack.cart));
      expect(run![2]!.metadata.streamPosition).toBe(ack.version);
      expect(run![2]!.metadata.globalPosition).toBe(ack.globalPosition);
    }
    return found.size;
  } finally {
    await store.close();
  }
}

/**
 * The child's exit and the end of its output: 'exit' can come before the
 * pipe's last lines are read, and a line lost there would look like an
 * acknowledgement never made or an event never handled.
 */
async function exitedAndRead(child: Child): Promise<void> {
  const out = child.proc.stdout!;
  const ended = out.readableEnded ? Promise.resolve() : new Promise<void>((resolve) => out.once('close', () => resolve()));
  await child.exited;
  await ended;
}

describe('commands through the adapter survive SIGKILL', () => {
  it(`keeps every acknowledged command's events, whole, across ${KILLS} kills of a child running CommandHandler with 8 clients`, async () => {
    const rnd = seededRandom(271);
    const dir = tempDir();
    const acks = new Map<string, Ack>();
    let inLog = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const child = spawnChild(join(import.meta.dirname, 'children', 'cartCommands.ts'), [dir, `k${kill}`, String(kill + 1)]);
      await child.waitFor((l) => l === 'ready');
      await new Promise((r) => setTimeout(r, 20 + rnd() * 250));
      child.proc.kill('SIGKILL');
      await exitedAndRead(child);
      for (const line of child.lines) {
        const [word, id, cart, version, gp] = line.split(' ');
        if (word === 'ack') acks.set(id!, { cart: cart!, version: BigInt(version!), globalPosition: BigInt(gp!) });
      }
      inLog = await check(dir, acks, `kill ${kill}`);
    }
    // the kills landed while commands were being acknowledged, not before the first or after the last
    expect(acks.size).toBeGreaterThan(0);
    expect(inLog).toBeGreaterThanOrEqual(acks.size);
  });
});

/** 1500 commits of 3 events over 20 streams: every event's global position, in order, and those that start a commit. */
async function fillCommits(dir: string): Promise<{ all: bigint[]; commitStarts: Set<bigint> }> {
  const commitStarts = new Set<bigint>();
  const all: bigint[] = [];
  const store = await getEpistemeEventStore({ dir, durability: 'none' });
  try {
    for (let c = 0; c < 1500; c++) {
      const r = await store.appendToStream(`p-${c % 20}`, [0, 1, 2].map((i) => ({ type: 'Added', data: { n: c * 3 + i } })));
      const first = r.lastEventGlobalPosition - 2n;
      commitStarts.add(first);
      all.push(first, first + 1n, first + 2n);
    }
  } finally {
    await store.close();
  }
  return { all, commitStarts };
}

const seenIn = (child: Child): bigint[] => child.lines.filter((l) => l.startsWith('seen ')).map((l) => BigInt(l.slice(5)));

describe('processor checkpoints survive SIGKILL', () => {
  it('a reactor killed at random points and restarted skips no event: each restart begins at a commit start at or before the first event not yet seen', async () => {
    const rnd = seededRandom(314);
    const dir = tempDir();
    const { all, commitStarts } = await fillCommits(dir);
    const seen = new Set<bigint>();
    let kills = 0;
    // 10 runs killed once they have handled a random number of events (unless one finishes first), then one run to the end
    for (let run = 0; run <= 10; run++) {
      const child = spawnChild(join(import.meta.dirname, 'children', 'projectorRun.ts'), [dir]);
      await child.waitFor((l) => l === 'ready');
      const target = run < 10 ? 1 + Math.floor(rnd() * 3000) : Infinity;
      const line = await child.waitFor((l) => l === 'done' || child.lines.length > target, 120_000);
      if (line !== 'done') {
        child.proc.kill('SIGKILL');
        kills++;
      }
      await exitedAndRead(child);
      const positions = seenIn(child);
      if (positions.length > 0) {
        const firstUnseen = all.find((p) => !seen.has(p));
        expect(commitStarts.has(positions[0]!), `run ${run} begins at a commit start`).toBe(true);
        if (firstUnseen !== undefined) expect(positions[0]! <= firstUnseen, `run ${run} begins at or before the first event not yet seen`).toBe(true);
        // in order, without a gap
        for (let i = 1; i < positions.length; i++) expect(all.indexOf(positions[i]!)).toBe(all.indexOf(positions[i - 1]!) + 1);
      }
      for (const p of positions) seen.add(p);
      if (child.lines.includes('done')) break;
    }
    expect(kills).toBeGreaterThan(0);
    expect(all.every((p) => seen.has(p))).toBe(true);
  });
});

describe('processor checkpoints across SIGTERM', () => {
  it('a reactor sent SIGTERM (Emmett then closes its processors) stops without a checkpoint past the events it handled: the next run delivers the rest', async () => {
    const dir = tempDir();
    const { all } = await fillCommits(dir);
    const first = spawnChild(join(import.meta.dirname, 'children', 'projectorRun.ts'), [dir]);
    await first.waitFor((l) => l === 'ready');
    await first.waitFor(() => first.lines.length > 300);
    first.proc.kill('SIGTERM');
    await exitedAndRead(first);
    // Emmett's SIGTERM handler keeps the process alive: the run ends by itself, cleanly
    expect(first.lines.at(-1), first.stderr()).toBe('done');
    const handled = seenIn(first);
    expect(handled).toEqual(all.slice(0, handled.length));
    expect(handled.length).toBeLessThan(all.length);
    const second = spawnChild(join(import.meta.dirname, 'children', 'projectorRun.ts'), [dir]);
    await second.waitFor((l) => l === 'done', 120_000);
    await exitedAndRead(second);
    const rest = seenIn(second);
    // at least once: the second run begins at or before the first event the first did not handle, and goes to the end
    expect(rest.length, 'events delivered to the second run').toBeGreaterThan(0);
    expect(rest[0]! <= all[handled.length]!, 'the second run begins at or before the first event not handled').toBe(true);
    expect(rest).toEqual(all.slice(all.indexOf(rest[0]!)));
  });
});
