import { describe, expect, it } from 'vitest';
import { Journal, verifyJournal } from '../src/index.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { SOAK, seededRandom, simDir } from './rng.js';

/**
 * Power loss through the I/O seam: at a random disk operation the machine
 * "loses power" (every later call fails), then everything that was never
 * synced is dropped, or a random prefix of it is kept with the last kept write
 * torn, or that prefix with each write in it kept or lost independently (the
 * kernel and the disk reorder pages). Recovery must always succeed and no
 * acknowledged record may be lost.
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
                const offset = (await journal.append(Buffer.from(text))).offset;
                acked.set(offset, text);
              } catch {
                return;
              }
            }
          }),
        );
        await journal.close().catch(() => undefined);
        disk.inject = undefined;
        const kept = rnd();
        disk.powerLoss({ keepPrefix: kept < 2 / 3, reorder: kept < 1 / 3 });
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

  it('keeps every synced record when unsynced writes reach the disk out of order, and never brings back a cut record (durability none, 40 rounds of 3 power losses)', async () => {
    /** Recovery cuts with valid records after the damage: the state a reordered power loss leaves. */
    let cutsWithValidAfter = 0;
    for (let round = 0; round < 40 * SOAK; round++) {
      const seed = 5000 + round;
      const rnd = seededRandom(seed);
      const disk = new SimulatedDisk(rnd);
      const dir = simDir();
      const options = { dir, io: disk, durability: 'none' as const, maxSegmentBytes: 2000 + Math.floor(rnd() * 4000), preallocateBytes: rnd() < 0.5 ? 0 : 512 };
      // what the log must hold: the records read back after the last power loss, then this cycle's
      let texts: string[] = [];
      /** Records that are durable: synced, or read back after a power loss (the simulated disk then holds only durable bytes). */
      let syncedCount = 0;
      for (let cycle = 0; cycle < 3; cycle++) {
        const journal = await Journal.open(options).catch((err: unknown) => {
          throw new Error(`seed ${seed} cycle ${cycle}: open failed: ${String(err)}`);
        });
        cutsWithValidAfter += journal.recovery!.cuts.filter((c) => c.wellFormedRecordsInCut > 0).length;
        const read: string[] = [];
        for await (const rec of journal.readFrom(0)) read.push(Buffer.from(rec.payload).toString());
        // a clean prefix of what was appended, every synced record in it, nothing cut earlier come back
        expect(read, `seed ${seed} cycle ${cycle}`).toEqual(texts.slice(0, read.length));
        expect(read.length, `seed ${seed} cycle ${cycle}`).toBeGreaterThanOrEqual(syncedCount);
        texts = read;
        syncedCount = read.length;
        const write = async (n: number) => {
          for (let i = 0; i < n; i++) {
            // lengths vary: a new record rarely ends where an old one did
            const text = `s${seed}c${cycle}i${texts.length}` + 'y'.repeat(Math.floor(rnd() * 80));
            await journal.append(Buffer.from(text));
            texts.push(text);
          }
        };
        await write(1 + Math.floor(rnd() * 30));
        await journal.sync();
        syncedCount = texts.length;
        await write(2 + Math.floor(rnd() * 30)); // unsynced: each append its own write
        disk.freeze(); // the power goes: close syncs nothing more, and lets go of the lock
        await journal.close().catch(() => undefined);
        disk.powerLoss({ keepPrefix: true, reorder: true });
      }
      const final = await Journal.open(options);
      const read: string[] = [];
      for await (const rec of final.readFrom(0)) read.push(Buffer.from(rec.payload).toString());
      expect(read, `seed ${seed} final`).toEqual(texts.slice(0, read.length));
      expect(read.length).toBeGreaterThanOrEqual(syncedCount);
      await final.close();
      expect(verifyJournal(dir, { io: disk }).ok, `seed ${seed}`).toBe(true);
    }
    expect(cutsWithValidAfter, 'reordered power losses left damage with valid records after it').toBeGreaterThan(0);
  });
});
