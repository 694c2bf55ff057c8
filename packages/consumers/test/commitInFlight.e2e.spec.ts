import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { FileCursorStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { spawnChild } from '../../wal/test/children/spawn.js';
import { SOAK, seededRandom } from '../../wal/test/rng.js';

const KILLS = 10 * SOAK;

describe('commits in flight under SIGKILL', () => {
  it(`a fast catch-up killed ${KILLS} times resumes at or after the last commit it reported durable, never past a record it handled`, async () => {
    const dir = tempDir();
    const writer = await Journal.open({ dir, durability: 'none' });
    const records = 40_000;
    for (let i = 0; i < records; i += 5000) {
      await writer.appendBatch(Array.from({ length: 5000 }, (_, j) => Buffer.from(`job-${i + j}`)));
    }
    const head = writer.head;
    await writer.close();
    const rnd = seededRandom(24);
    let reported = 0; // the last cursor a run reported committed (onCommit)
    let handledMax = 0; // offset after the furthest record a handler completed
    let commitsSeen = 0;
    let finished = false;
    for (let run = 0; run <= KILLS && !finished; run++) {
      const child = spawnChild('../../../consumers/test/children/reportingConsumer.ts', [dir, String(1 + Math.floor(rnd() * 400))]);
      const start = Number((await child.waitFor((l) => l.startsWith('start '))).split(' ')[1]);
      expect(start, `run ${run}: resumed before a commit reported durable`).toBeGreaterThanOrEqual(reported);
      expect(start, `run ${run}: resumed past a record not handled`).toBeLessThanOrEqual(handledMax);
      if (run < KILLS) {
        // killed once it has committed at least once, at a random moment after
        await child.waitFor((l) => l.startsWith('c ') || l.startsWith('idle'), 30_000);
        await new Promise((r) => setTimeout(r, rnd() * 60));
        child.proc.kill('SIGKILL');
      }
      await child.exited;
      // lines in the order the child wrote them: a commit is reported only after the records it covers were handled
      let handled = start;
      for (const line of child.lines) {
        const [kind, value] = line.split(' ');
        if (kind === 'h') {
          handled = Number(value);
          handledMax = Math.max(handledMax, handled);
        } else if (kind === 'c') {
          const cursor = Number(value);
          expect(cursor, `run ${run}: reported a commit past the records handled`).toBeLessThanOrEqual(handled);
          expect(cursor, `run ${run}: reported commits went backwards`).toBeGreaterThanOrEqual(reported);
          reported = cursor;
          commitsSeen++;
        } else if (kind === 'idle') {
          finished = true;
          expect(line).toBe(`idle stopped ${head}`);
        }
      }
      const onDisk = new FileCursorStore(dir).read('fast')!.cursor;
      expect(onDisk).toBeGreaterThanOrEqual(reported);
      expect(onDisk).toBeLessThanOrEqual(handledMax);
    }
    expect(commitsSeen, 'no run reported a commit').toBeGreaterThan(0);
    if (!finished) {
      const child = spawnChild('../../../consumers/test/children/reportingConsumer.ts', [dir, '1000']);
      const start = Number((await child.waitFor((l) => l.startsWith('start '))).split(' ')[1]);
      expect(start).toBeGreaterThanOrEqual(reported);
      expect(start).toBeLessThanOrEqual(handledMax);
      expect(await child.waitFor((l) => l.startsWith('idle'), 60_000)).toBe(`idle stopped ${head}`);
      await child.exited;
    }
  });
});
