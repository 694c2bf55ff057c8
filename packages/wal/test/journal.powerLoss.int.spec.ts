import { describe, expect, it } from 'vitest';
import { Journal, verifyJournal } from '../src/index.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { SOAK, seededRandom, simDir } from './rng.js';

/**
 * Power loss through the I/O seam: at a random disk operation the machine
 * "loses power" (every later call fails), then everything that was never
 * synced is dropped, or a random prefix of it is kept with the last kept write
 * torn. Recovery must always succeed and no acknowledged record may be lost.
 */
describe('Journal under simulated power loss', () => {
  const rounds = 40 * SOAK;

  it(`never loses an acknowledged record and always recovers (${rounds} rounds, 3 power losses each)`, async () => {
    let acknowledged = 0;
    for (let round = 0; round < rounds; round++) {
      const seed = 1000 + round;
      const rnd = seededRandom(seed);
      const disk = new SimulatedDisk(rnd);
      const dir = simDir();
      const options = {
        dir,
        io: disk,
        maxSegmentBytes: 300 + Math.floor(rnd() * 1500),
        preallocateBytes: rnd() < 0.5 ? 0 : 256,
        groupCommit: rnd() < 0.5 ? { maxBatchRecords: 1 + Math.floor(rnd() * 16) } : undefined,
      };
      const acked = new Map<number, string>();
      for (let cycle = 0; cycle < 3; cycle++) {
        const journal = await Journal.open(options).catch((err: unknown) => {
          throw new Error(`seed ${seed} cycle ${cycle}: open failed: ${String(err)}`);
        });
        // every record acknowledged so far is there, intact, at its offset
        for (const [offset, text] of acked) {
          const rec = journal.read(offset);
          expect(rec && Buffer.from(rec.payload).toString(), `seed ${seed} offset ${offset}`).toBe(text);
        }
        const freezeAt = Math.floor(rnd() * 300);
        let ops = 0;
        disk.inject = () => {
          if (++ops === freezeAt) disk.freeze();
          return undefined;
        };
        const appenders = 1 + Math.floor(rnd() * 6);
        await Promise.all(
          Array.from({ length: appenders }, async (_, a) => {
            for (let i = 0; i < 200; i++) {
              const text = `s${seed}c${cycle}a${a}i${i}` + 'x'.repeat(Math.floor(rnd() * 60));
              try {
                const offset = await journal.append(Buffer.from(text));
                acked.set(offset, text);
              } catch {
                return;
              }
            }
          }),
        );
        await journal.close().catch(() => undefined);
        disk.inject = undefined;
        disk.powerLoss({ keepPrefix: rnd() < 0.5 });
      }
      const final = await Journal.open(options);
      let expected = final.earliest;
      for await (const rec of final.readFrom(final.earliest)) {
        expect(rec.offset).toBe(expected);
        expected = rec.next;
        const text = acked.get(rec.offset);
        if (text !== undefined) expect(Buffer.from(rec.payload).toString()).toBe(text);
      }
      for (const offset of acked.keys()) expect(offset < final.head, `seed ${seed}: acked ${offset} below head ${final.head}`).toBe(true);
      await final.close();
      expect(verifyJournal(dir, { io: disk }).ok, `seed ${seed}`).toBe(true);
      acknowledged += acked.size;
    }
    expect(acknowledged).toBeGreaterThan(rounds * 10);
  });
});
