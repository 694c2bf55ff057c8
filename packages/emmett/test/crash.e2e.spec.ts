import { describe, expect, it } from 'vitest';
import { getEpistemeEventStore, type EpistemeReadEvent } from '../src/index.js';
import { cartStream } from '../examples/shoppingCart/shoppingCart.js';
import { spawnChild } from '../../wal/test/children/spawn.js';
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
      await child.exited;
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
