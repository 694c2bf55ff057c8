import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError, verifyJournal } from '../src/index.js';
import { SimulatedDisk, type Fault, type FaultInjector } from '../src/testing/index.js';
import { tempDir } from './helpers.js';
import { SOAK, seededRandom, simDir } from './rng.js';

/**
 * docs/journal.md: a failed or short write rejects its batch, restores the file to
 * the last record boundary and leaves the journal usable once the cause is
 * gone; a failed sync puts the journal in a failed state until reopened.
 */
describe('Journal with injected write and sync faults', () => {
  const rounds = 30 * SOAK;

  it(`rolls back failed or short writes and keeps working; fails hard on a failed sync (${rounds} rounds)`, async () => {
    const seen = { writeFailed: 0, failedState: 0, acked: 0 };
    for (let round = 0; round < rounds; round++) {
      const seed = 5000 + round;
      const rnd = seededRandom(seed);
      const disk = new SimulatedDisk(rnd);
      const options = {
        dir: simDir(),
        io: disk,
        maxSegmentBytes: 400 + Math.floor(rnd() * 1000),
        preallocateBytes: rnd() < 0.5 ? 0 : 300,
        groupCommit: rnd() < 0.5 ? true : undefined,
      };
      const acked = new Map<number, string>();
      let journal = await Journal.open(options);
      const writeFaultRate = 0.05 + rnd() * 0.1;
      const syncFaultRate = rnd() < 0.5 ? 0 : 0.02;
      disk.inject = ({ op, length }): Fault | undefined => {
        const r = rnd();
        if (op === 'write' && r < writeFaultRate) {
          const kind = Math.floor(rnd() * 3);
          if (kind === 0) return { error: 'ENOSPC' };
          if (kind === 1) return { error: 'EIO' };
          return { shortWrite: Math.floor(rnd() * (length ?? 1)) };
        }
        if (op === 'fsync' && r < syncFaultRate) return { error: 'EIO' };
        return undefined;
      };
      for (let i = 0; i < 150; i++) {
        const text = `r${seed}i${i}` + 'y'.repeat(Math.floor(rnd() * 80));
        const head = journal.head;
        try {
          acked.set((await journal.append(Buffer.from(text))).offset, text);
        } catch (err) {
          if (isWalError(err, WalErrorCodes.WriteFailed)) {
            seen.writeFailed++;
            // nothing of the failed batch is visible, and the journal goes on
            expect(journal.head).toBe(head);
            continue;
          }
          expect(isWalError(err, WalErrorCodes.FailedState), String(err)).toBe(true);
          seen.failedState++;
          // every later append is refused until reopen
          expect(isWalError(await journal.append(Buffer.from('after')).catch((e: unknown) => e), WalErrorCodes.FailedState)).toBe(true);
          await journal.close().catch(() => undefined);
          disk.powerLoss({ keepPrefix: rnd() < 0.5 });
          const inject: FaultInjector | undefined = disk.inject;
          disk.inject = undefined;
          journal = await Journal.open(options);
          disk.inject = inject;
        }
      }
      disk.inject = undefined;
      for (const [offset, text] of acked) expect(Buffer.from(journal.read(offset)!.payload).toString()).toBe(text);
      await journal.close();
      const report = verifyJournal(options.dir, { io: disk });
      expect(report.ok, `seed ${seed}: ${JSON.stringify(report.problems)}`).toBe(true);
      seen.acked += acked.size;
    }
    expect(seen.writeFailed).toBeGreaterThan(0);
    expect(seen.failedState).toBeGreaterThan(0);
    expect(seen.acked).toBeGreaterThan(rounds * 50);
  });

  it('refuses appends on a full disk without corrupting the log and resumes once space is freed', async () => {
    const disk = new SimulatedDisk(seededRandom(7));
    const dir = simDir();
    const journal = await Journal.open({ dir, io: disk, maxSegmentBytes: 2000, preallocateBytes: 0 });
    disk.capacityBytes = disk.usedBytes() + 5000;
    const acked: number[] = [];
    let failures = 0;
    for (let i = 0; i < 100; i++) {
      try {
        acked.push((await journal.append(new Uint8Array(100).fill(i))).offset);
      } catch (err) {
        expect(isWalError(err, WalErrorCodes.WriteFailed)).toBe(true);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
    expect(verifyJournal(dir, { io: disk }).ok).toBe(true);
    disk.capacityBytes = Number.POSITIVE_INFINITY;
    acked.push((await journal.append(new Uint8Array(100).fill(200))).offset);
    for (const offset of acked) expect(journal.read(offset)!.payload.length).toBe(100);
    await journal.close();
    expect(verifyJournal(dir, { io: disk }).ok).toBe(true);
  });

  it('fills a real 1 MiB tmpfs: appends are refused with a typed error, the log stays valid, and appends resume after space is freed', async (ctx) => {
    if (process.getuid?.() !== 0) {
      ctx.skip(true, 'needs root to mount a small tmpfs for a real ENOSPC (run the tests as root to include it)');
      return;
    }
    const mnt = join(tempDir(), 'tmpfs');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    } catch (err) {
      ctx.skip(true, `cannot mount a tmpfs here (${String(err).split('\n')[0]})`);
      return;
    }
    try {
      const dir = join(mnt, 'journal');
      const journal = await Journal.open({ dir, maxSegmentBytes: 256 * 1024, preallocateBytes: 64 * 1024 });
      const acked: number[] = [];
      let failed = 0;
      for (let i = 0; i < 400 && failed < 5; i++) {
        try {
          acked.push((await journal.append(new Uint8Array(4000).fill(i & 0xff))).offset);
        } catch (err) {
          expect(isWalError(err, WalErrorCodes.WriteFailed), String(err)).toBe(true);
          failed++;
        }
      }
      expect(failed).toBeGreaterThan(0);
      expect(verifyJournal(dir).ok).toBe(true);
      // free space: cleanup of old segments, as consumers would allow
      expect(journal.deleteBelow(acked[Math.floor(acked.length / 2)]!).length).toBeGreaterThan(0);
      const after = (await journal.append(new Uint8Array(4000).fill(7))).offset;
      expect(journal.read(after)!.payload[0]).toBe(7);
      await journal.close();
      const reopened = await Journal.open({ dir });
      expect(reopened.head).toBe(after + 4040);
      await reopened.close();
    } finally {
      execFileSync('umount', [mnt]);
      rmdirSync(mnt);
    }
  });
});
