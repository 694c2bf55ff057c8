import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, type FileIO } from '../src/index.js';
import { RECORD_OVERHEAD, loadRecoveryPoint, writeRecoveryPoint } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { syncedPrefixEvery } from '../src/journal/journalWriter.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { expectSameBytes, payloadOf } from './helpers.js';
import { seededRandom, simDir } from './rng.js';

/**
 * The synced prefix: a writer records in RECOVERY_POINT how far the last
 * segment was synced and the CRC32C of those bytes (at open, then every
 * few MiB of synced records), and the open after a crash scans
 * only the records after it. These tests pin down what makes that safe: the
 * prefix never covers bytes that were not synced (it survives every power
 * loss), and a prefix whose bytes changed is not trusted.
 */

const RECORD = 4000;
/** Lowered from 8 MiB for these tests: the simulated disk copies every write. */
const PREFIX_EVERY_BYTES = 256 * 1024;
let saved = 0;
beforeAll(() => {
  saved = syncedPrefixEvery.bytes;
  syncedPrefixEvery.bytes = PREFIX_EVERY_BYTES;
});
afterAll(() => {
  syncedPrefixEvery.bytes = saved;
});
const point = (dir: string, io: FileIO) => loadRecoveryPoint(io, dir, DEFAULT_MAX_PAYLOAD_BYTES);

/** Appends from `appenders` concurrent callers until `bytes` more are acknowledged; returns offset -> payload index. */
async function appendUntil(j: Journal, bytes: number, appenders: number, first: number): Promise<Map<number, number>> {
  const acked = new Map<number, number>();
  let next = first;
  const target = j.head + bytes;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (j.head < target) {
        const i = next++;
        acked.set((await j.append(payloadOf(i, RECORD))).offset, i);
      }
    }),
  );
  return acked;
}

describe('synced prefix of the last segment', () => {
  it('is recorded at open and every few MiB of synced records; the open after a crash scans only what follows it', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk, groupCommit: true });
    expect(point(dir, disk).prefix).toBeUndefined(); // nothing to vouch for in an empty segment
    const acked = await appendUntil(j, 2 * PREFIX_EVERY_BYTES + 100_000, 16, 0);
    const prefix = point(dir, disk).prefix!;
    expect(prefix.base).toBe(0);
    expect(prefix.size).toBeGreaterThanOrEqual(HEADER_SIZE + 2 * PREFIX_EVERY_BYTES);
    expect(prefix.size).toBeLessThanOrEqual(HEADER_SIZE + j.head);
    disk.freeze(); // the process dies here
    await j.close().catch(() => undefined);
    disk.powerLoss();

    const reopened = await Journal.open({ dir, io: disk });
    const after = [...acked.keys()].filter((o) => HEADER_SIZE + o >= prefix.size).length;
    expect(reopened.recovery!).toMatchObject({ lastSegmentPrefixTrusted: prefix.size, recordsVerified: after, cuts: [] });
    for (const [o, i] of acked) expectSameBytes(reopened.read(o)!.payload, payloadOf(i, RECORD));
    // the open recorded the prefix it opened with
    expect(point(dir, disk).prefix).toMatchObject({ base: 0, size: HEADER_SIZE + reopened.head });
    await reopened.close();
  });

  it('never covers bytes that were not synced: after a power loss at any moment, the recorded prefix still matches the disk', async () => {
    const rnd = seededRandom(7);
    let trusted = 0;
    let rounds = 0;
    // a prefix at every synced batch: the power can then go between the
    // recording of a prefix and the sync of the batch written after it
    syncedPrefixEvery.bytes = 1;
    try {
    for (let series = 0; series < 4; series++) {
      const disk = new SimulatedDisk(rnd);
      const dir = simDir();
      const acked = new Map<number, number>();
      let next = 0;
      for (let round = 0; round < 5; round++, rounds++) {
        const j = await Journal.open({ dir, io: disk, groupCommit: true, maxSegmentBytes: 1024 * 1024 });
        for (const [o, i] of acked) expectSameBytes(j.read(o)!.payload, payloadOf(i, RECORD), `series ${series} round ${round}, offset ${o}`);
        // the power goes at a random acknowledgement, with batches written and syncing behind it
        const freezeAt = 20 + Math.floor(rnd() * 120);
        let acks = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            try {
              for (;;) {
                const i = next++;
                acked.set((await j.append(payloadOf(i, RECORD))).offset, i);
                if (++acks === freezeAt) disk.freeze();
              }
            } catch {
              // frozen: every later append fails
            }
          }),
        );
        await j.close().catch(() => undefined);
        disk.powerLoss({ keepPrefix: rnd() < 0.5 });
        const recorded = point(dir, disk).prefix;
        const reopened = await Journal.open({ dir, io: disk, maxSegmentBytes: 1024 * 1024 });
        if (recorded && recorded.base === reopened.segmentList().at(-1)!.base) {
          expect(reopened.recovery!.lastSegmentPrefixTrusted, `series ${series} round ${round}: the recorded prefix no longer matches the disk`).toBe(recorded.size);
          trusted++;
        }
        disk.freeze();
        await reopened.close().catch(() => undefined);
        disk.powerLoss();
      }
    }
    } finally {
      syncedPrefixEvery.bytes = PREFIX_EVERY_BYTES;
    }
    expect(rounds).toBe(20);
    expect(trusted).toBeGreaterThan(10);
  }, 180_000 /* 20 rounds on the simulated disk: ~40 s on 2 loaded cores, past vitest's 60 s default when CI shares them */);

  it('is not trusted once its bytes changed: a bit flip inside it is found by the scan from the header, and cut', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk });
    const offsets: number[] = [];
    for (let i = 0; i < 40; i++) offsets.push((await j.append(payloadOf(i, 100))).offset);
    disk.freeze();
    await j.close().catch(() => undefined);
    disk.powerLoss();
    const first = await Journal.open({ dir, io: disk }); // records the prefix it opens with
    const prefix = point(dir, disk).prefix!;
    expect(prefix.size).toBe(HEADER_SIZE + first.head);
    disk.freeze();
    await first.close().catch(() => undefined);
    disk.powerLoss();

    // a byte of record 10's payload flips on the medium
    const victim = offsets[10]!;
    const fd = disk.open(join(dir, segmentName(0)), 'r+');
    const byte = new Uint8Array(1);
    disk.read(fd, byte, 0, 1, HEADER_SIZE + victim + RECORD_OVERHEAD + 5);
    byte[0]! ^= 0x10;
    disk.write(fd, byte, 0, 1, HEADER_SIZE + victim + RECORD_OVERHEAD + 5);
    disk.fsync(fd);
    disk.close(fd);

    const reopened = await Journal.open({ dir, io: disk });
    expect(reopened.recovery!.lastSegmentPrefixTrusted).toBe(0);
    expect(reopened.recovery!.cuts).toMatchObject([{ offset: victim, reason: 'crc-mismatch' }]);
    expect(reopened.head).toBe(victim);
    await reopened.close();
  });

  it('is ignored when it names another segment or reaches past the end of the file', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const j = await Journal.open({ dir, io: disk });
    for (let i = 0; i < 10; i++) await j.append(payloadOf(i, 100));
    disk.freeze();
    await j.close().catch(() => undefined);
    disk.powerLoss();
    const second = await Journal.open({ dir, io: disk }); // records the prefix it opens with
    disk.freeze();
    await second.close().catch(() => undefined);
    disk.powerLoss();
    const real = point(dir, disk).prefix!;
    for (const bad of [{ ...real, base: 1234 }, { ...real, size: real.size + 141 }]) {
      writeRecoveryPoint(disk, dir, [], DEFAULT_MAX_PAYLOAD_BYTES, undefined, bad);
      const reopened = await Journal.open({ dir, io: disk });
      expect(reopened.recovery!).toMatchObject({ lastSegmentPrefixTrusted: 0, recordsVerified: 10, cuts: [] });
      disk.freeze();
      await reopened.close().catch(() => undefined);
      disk.powerLoss();
    }
  });
  it('syncs at open what recovery kept of a killed writer: a power loss right after the open keeps it; a failed sync fails the open', async () => {
    const disk = new SimulatedDisk();
    const dir = simDir();
    const killed = await Journal.open({ dir, io: disk });
    const offsets: number[] = [];
    for (let i = 0; i < 30; i++) offsets.push((await killed.append(payloadOf(i, 100), { durability: 'none' })).offset);
    // the process dies with its writes in the page cache: nothing synced, nothing closed
    (killed as unknown as { lock: { release(): void } }).lock.release();

    let failSync = true;
    disk.inject = ({ op, path }) => (failSync && op === 'fsync' && path.endsWith('.wal') ? { error: 'EIO' } : undefined);
    const refused = await Journal.open({ dir, io: disk }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'WAL_IO' });
    failSync = false;

    const opened = await Journal.open({ dir, io: disk });
    expect(opened.head).toBe(offsets.at(-1)! + RECORD_OVERHEAD + 100);
    disk.freeze(); // the power goes right after the open
    await opened.close().catch(() => undefined);
    disk.powerLoss();
    const after = await Journal.open({ dir, io: disk });
    offsets.forEach((o, i) => expectSameBytes(after.read(o)!.payload, payloadOf(i, 100)));
    await after.close();
  });
});
