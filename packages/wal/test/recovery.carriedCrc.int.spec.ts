import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, nodeFileIO, recoverJournal, type FileIO } from '../src/index.js';
import { loadRecoveryPoint } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { referenceChecksums } from '../src/checksum/reference.js';
import { payloadOf, tempDir, withoutChecksumOffload } from './helpers.js';

/**
 * The last segment's CRC32C, carried from recovery to the writer: the scan
 * of the last segment computes the CRC of the bytes it verified, the report
 * gives it (lastSegmentCrc32c), and the writer carries it on from there
 * instead of reading the segment a second time. These tests check the value
 * against a CRC of the file's bytes (the audited reference implementation)
 * on every path that produces it, and that an open reads the segment once.
 */

const point = (dir: string) => loadRecoveryPoint(nodeFileIO, dir, DEFAULT_MAX_PAYLOAD_BYTES);

/** CRC32C of the last segment's bytes from its start to the head, read back from the file. */
function crcToHead(dir: string, report: { head: number; segments: Array<{ base: number }> }): number {
  const base = report.segments.at(-1)!.base;
  const bytes = readFileSync(join(dir, segmentName(base))).subarray(0, HEADER_SIZE + report.head - base);
  return referenceChecksums.crc32c(bytes, 0, bytes.length, 0);
}

/** A journal whose writer died after `records` appends of `size` bytes (the descriptor is dropped, not closed). */
async function crashedJournal(dir: string, records: number, size: number, options: { maxSegmentBytes?: number; preallocateBytes?: number } = {}): Promise<number> {
  const j = await Journal.open({ dir, durability: 'none', ...options });
  for (let i = 0; i < records; i++) await j.append(payloadOf(i, size));
  await j.sync();
  // the process dies here: nothing closed (no clean-close mark, preallocated zeros kept)
  (j as unknown as { lock: { release(): void } }).lock.release();
  return j.head;
}

describe('the last segment CRC32C carried from recovery to the writer', () => {
  for (const [label, size, offload] of [
    ['256 B records, checksum offload', 256, true],
    ['256 B records, main thread only', 256, false],
    ['8 KiB records (CRCs derived from the stored ones), offload', 8192, true],
    ['8 KiB records, main thread only', 8192, false],
  ] as const) {
    it(`a full scan after a crash gives the CRC of the bytes up to the head: ${label}`, async () => {
      const dir = tempDir();
      const head = await crashedJournal(dir, Math.ceil((3 << 20) / size), size);
      const run = () => recoverJournal(dir, { scanSealed: true });
      const report = offload ? run() : withoutChecksumOffload(run);
      expect(report.head).toBe(head);
      expect(report.freeSpaceBytes).toBeGreaterThan(0); // preallocated zeros after the records
      expect(report.lastSegmentCrc32c).toBe(crcToHead(dir, report));
    });
  }

  it('after a torn tail is cut, and in a later segment', async () => {
    const dir = tempDir();
    await crashedJournal(dir, 600, 1000, { maxSegmentBytes: 256 * 1024, preallocateBytes: 0 });
    const report0 = recoverJournal(dir);
    const last = join(dir, segmentName(report0.segments.at(-1)!.base));
    appendFileSync(last, Buffer.from([7, 0, 0, 0, 1, 2, 3])); // a torn record
    const report = recoverJournal(dir, { scanSealed: true });
    expect(report.segments.length).toBeGreaterThan(1);
    expect(report.cuts).toHaveLength(1);
    expect(report.lastSegmentCrc32c).toBe(crcToHead(dir, report));
  });

  it('past a synced prefix, and after a clean close', async () => {
    const dir = tempDir();
    const j = await Journal.open({ dir });
    for (let i = 0; i < 50; i++) await j.append(payloadOf(i, 500));
    await j.close();
    const closed = recoverJournal(dir, { closed: point(dir).closed });
    expect(closed.lastSegmentTrusted).toBe(true);
    expect(closed.lastSegmentCrc32c).toBe(crcToHead(dir, closed));

    // reopen (records a synced prefix before its first write), append, then crash
    const k = await Journal.open({ dir });
    await k.append(payloadOf(50, 500)); // the prefix is recorded once the clean-close check has passed, before this write
    const prefix = point(dir).prefix!;
    for (let i = 51; i < 80; i++) await k.append(payloadOf(i, 500));
    (k as unknown as { lock: { release(): void } }).lock.release(); // killed
    const report = recoverJournal(dir, { prefix });
    expect(report.lastSegmentPrefixTrusted).toBe(prefix.size);
    expect(report.recordsVerified).toBe(30);
    expect(report.lastSegmentCrc32c).toBe(crcToHead(dir, report));
  });

  it('is absent when recovery removed the last segment (a torn create)', async () => {
    const dir = tempDir();
    const head = await crashedJournal(dir, 300, 1000, { maxSegmentBytes: 128 * 1024, preallocateBytes: 0 });
    appendFileSync(join(dir, segmentName(head)), Buffer.alloc(0)); // the next segment, created empty
    const report = recoverJournal(dir);
    expect(report.cuts.map((c) => c.reason)).toEqual(['bad-segment-header']);
    expect(report.head).toBe(head);
    expect(report.lastSegmentCrc32c).toBeUndefined();
  });

  it('an open that scans the whole last segment reads it once, and the writer carries the CRC on: the next open trusts its clean close', async () => {
    const dir = tempDir();
    await crashedJournal(dir, 4000, 1000);
    const segment = join(dir, segmentName(0));
    const size = readFileSync(segment).length;
    let segmentBytesRead = 0;
    const counting: FileIO = {
      ...nodeFileIO,
      open: (path, flags) => {
        const fd = nodeFileIO.open(path, flags);
        if (path === segment) segmentFds.add(fd);
        return fd;
      },
      close: (fd) => {
        segmentFds.delete(fd);
        nodeFileIO.close(fd);
      },
      read: (fd, buf, offset, length, position) => {
        const n = nodeFileIO.read(fd, buf, offset, length, position);
        if (segmentFds.has(fd)) segmentBytesRead += n;
        return n;
      },
    };
    const segmentFds = new Set<number>();
    const j = await Journal.open({ dir, io: counting, scanSealedOnOpen: true });
    expect(j.recovery!.recordsVerified).toBe(4000);
    // the scan reads the segment (up to its preallocated end) once; a second pass for the CRC would double it
    expect(segmentBytesRead).toBeLessThan(size * 1.2);
    for (let i = 0; i < 10; i++) await j.append(payloadOf(i, 1000));
    await j.close();
    const again = await Journal.open({ dir });
    expect(again.recovery!).toMatchObject({ lastSegmentTrusted: true, recordsVerified: 0, cuts: [] });
    await again.close();
  });
});
