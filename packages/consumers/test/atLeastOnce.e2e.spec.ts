import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { CursorStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { spawnChild } from '../../wal/test/children/spawn.js';
import { SOAK, seededRandom } from '../../wal/test/rng.js';

const KILLS = 12 * SOAK;

describe('at-least-once delivery with real processes', () => {
  it(`handles every record at least once, in order, across ${KILLS} SIGKILLs of the consumer; the cursor never goes back or past an unhandled record`, async () => {
    const dir = tempDir();
    const writer = await Journal.open({ dir, maxSegmentBytes: 16 * 1024, durability: 'none' });
    const offsets = (await writer.appendBatch(Array.from({ length: 4000 }, (_, i) => Buffer.from(`job-${i}`)))).map((a) => a.offset);
    await writer.close();
    const nextOf = new Map(offsets.map((o, i) => [o, offsets[i + 1] ?? o + 40 + `job-${i}`.length]));
    const rnd = seededRandom(7);
    const handledEver = new Set<number>();
    let handledMax = 0; // offset after the furthest handled record
    let lastCursor = 0;
    let finished = false;
    for (let run = 0; run <= KILLS && !finished; run++) {
      const child = spawnChild('../../../consumers/test/children/consumer.ts', [dir, String(1 + Math.floor(rnd() * 200))]);
      const start = Number((await child.waitFor((l) => l.startsWith('start '))).split(' ')[1]);
      expect(start, `run ${run}: cursor moved backwards`).toBeGreaterThanOrEqual(lastCursor);
      expect(start, `run ${run}: cursor past an unhandled record`).toBeLessThanOrEqual(handledMax);
      if (run < KILLS) {
        await new Promise((r) => setTimeout(r, 30 + rnd() * 200));
        child.proc.kill('SIGKILL');
      }
      await child.exited;
      const handled = child.lines.filter((l) => l.startsWith('h ')).map((l) => l.split(' ').map(Number) as [string, number, number]);
      // in order, from the cursor, without gaps
      let expected = start;
      for (const [, offset, next] of handled) {
        expect(offset).toBe(expected);
        expect(next).toBe(nextOf.get(offset));
        handledEver.add(offset);
        expected = next;
        handledMax = Math.max(handledMax, next);
      }
      const cursor = new CursorStore(dir).read('worker')!.cursor;
      expect(cursor).toBeGreaterThanOrEqual(start);
      expect(cursor).toBeLessThanOrEqual(handledMax);
      lastCursor = cursor;
      finished = child.lines.includes('idle');
    }
    if (!finished) {
      const child = spawnChild('../../../consumers/test/children/consumer.ts', [dir, '500']);
      await child.waitFor((l) => l === 'idle', 60_000);
      for (const l of child.lines.filter((x) => x.startsWith('h '))) handledEver.add(Number(l.split(' ')[1]));
      await child.exited;
    }
    for (const o of offsets) expect(handledEver.has(o), `record ${o} never handled`).toBe(true);
  });
});
