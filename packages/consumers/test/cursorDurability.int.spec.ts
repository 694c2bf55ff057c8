import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { SimulatedDisk } from '@episteme/wal/testing';
import { ConsumerRegistry, CursorStore } from '../src/index.js';
import { quiet } from './helpers.js';
import { seededRandom, simDir } from '../../wal/test/rng.js';

describe('cursor commits under power loss', () => {
  it('reads back the old or the new cursor, never garbage, whatever point of a commit the power is lost at', async () => {
    let cases = 0;
    for (let cut = 0; cut < 12; cut++) {
      for (const keepPrefix of [false, true]) {
        for (let variant = 0; variant < 4; variant++) {
          const rnd = seededRandom(cut * 100 + variant * 10 + (keepPrefix ? 1 : 0));
          const disk = new SimulatedDisk(rnd);
          const dir = simDir();
          const journal = await Journal.open({ dir, io: disk });
          const offsets = await journal.appendBatch(Array.from({ length: 20 }, (_, i) => Buffer.from(`e${i}`)));
          const registry = new ConsumerRegistry(journal, { io: disk, logger: quiet });
          registry.register('c');
          registry.commit('c', offsets[5]!);
          const oldCursor = offsets[5]!;
          const newCursor = offsets[10 + variant]!;
          let ops = 0;
          disk.inject = () => {
            if (ops++ === cut) disk.freeze();
            return undefined;
          };
          try {
            registry.commit('c', newCursor);
          } catch {
            // the power went out during the commit
          }
          await journal.close().catch(() => undefined);
          disk.inject = undefined;
          disk.powerLoss({ keepPrefix });
          const reopened = await Journal.open({ dir, io: disk });
          const cursor = new CursorStore(dir, disk).read('c')!.cursor;
          expect([oldCursor, newCursor], `cut at op ${cut}, keepPrefix ${keepPrefix}`).toContain(cursor);
          expect(new ConsumerRegistry(reopened, { io: disk, logger: quiet }).get('c').cursor).toBe(cursor);
          await reopened.close();
          cases++;
        }
      }
    }
    expect(cases).toBe(96);
  });
});
