import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blake3 } from '@noble/hashes/blake3.js';
import { isWalError, QuarantineError, recoverJournal, nodeFileIO, verifyJournal, WalErrorCodes } from '../src/index.js';
import { crc32cJs, encodeRecord, HEADER_SIZE, RECORD_OVERHEAD, scanSegment } from '../src/internals.js';
import { copyVector, FIXTURES, snapshotDir } from './helpers.js';

interface VectorRecord {
  offset: number;
  payload_len: number;
  crc32c: string;
  blake3: string;
  payload_hex: string;
}
interface VectorCase {
  records: VectorRecord[];
  head: number;
  segments?: string[];
  bad_offset?: number;
  expect: string;
}
const cases = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as {
  header_size: number;
  record_overhead: number;
  crc32c_check: { input_ascii: string; crc32c: string };
  cases: Record<string, VectorCase>;
};

/** Reads every valid record of a journal directory in order: [offset, payload]. */
function readAll(dir: string): Array<{ offset: number; payload: Uint8Array; crc: number; digest: string }> {
  const out: Array<{ offset: number; payload: Uint8Array; crc: number; digest: string }> = [];
  const names = readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
  for (const name of names) {
    const base = Number.parseInt(name.slice(0, 16), 16);
    const fd = nodeFileIO.open(join(dir, name), 'r');
    try {
      scanSegment(nodeFileIO, fd, {
        maxPayloadBytes: 16 << 20,
        visit: (pos, n, buf, i) => {
          const view = new DataView(buf.buffer, buf.byteOffset);
          out.push({
            offset: base + pos - HEADER_SIZE,
            payload: buf.slice(i + RECORD_OVERHEAD, i + RECORD_OVERHEAD + n),
            crc: view.getUint32(i + 4, true),
            digest: Buffer.from(buf.subarray(i + 8, i + 40)).toString('hex'),
          });
        },
      });
    } finally {
      nodeFileIO.close(fd);
    }
  }
  return out;
}

function expectRecords(dir: string, c: VectorCase): void {
  const got = readAll(dir);
  expect(got.map((r) => r.offset)).toEqual(c.records.map((r) => r.offset));
  c.records.forEach((want, i) => {
    const rec = got[i]!;
    expect(Buffer.from(rec.payload).toString('hex')).toBe(want.payload_hex);
    expect(rec.crc.toString(16).padStart(8, '0')).toBe(want.crc32c);
    expect(rec.digest).toBe(want.blake3);
    // the reference implementation agrees with the stored digest
    expect(Buffer.from(blake3(rec.payload)).toString('hex')).toBe(want.blake3);
  });
}

describe('golden vectors (shared/vectors, copied into test/fixtures)', () => {
  it('uses the constants and checksums the vectors were made with', () => {
    expect(HEADER_SIZE).toBe(cases.header_size);
    expect(RECORD_OVERHEAD).toBe(cases.record_overhead);
    const input = new TextEncoder().encode(cases.crc32c_check.input_ascii);
    expect(crc32cJs(input).toString(16)).toBe(cases.crc32c_check.crc32c);
  });

  it('writes the same bytes as the independent encoder (every record of every case)', () => {
    for (const [name, c] of Object.entries(cases.cases)) {
      const files = (c.segments ?? readdirSync(join(FIXTURES, name)).filter((n) => n.endsWith('.wal')).sort()).map((n) =>
        readFileSync(join(FIXTURES, name, n)),
      );
      const log = Buffer.concat(files.map((f) => f.subarray(HEADER_SIZE)));
      for (const r of c.records) {
        const encoded = encodeRecord(Buffer.from(r.payload_hex, 'hex'));
        if (name === 'sealed-corrupt' && r.offset === c.bad_offset) continue; // damaged on purpose
        expect(Buffer.from(encoded).equals(log.subarray(r.offset, r.offset + encoded.length)), `${name}@${r.offset}`).toBe(true);
      }
    }
  });

  it('basic: opens with no cut; reads every record with these offsets and payloads', () => {
    const c = cases.cases.basic!;
    const dir = copyVector('basic');
    const before = snapshotDir(dir);
    const report = recoverJournal(dir);
    expect(report.cuts).toEqual([]);
    expect(report.head).toBe(c.head);
    expect(report.recordsVerified).toBe(c.records.length);
    expect(snapshotDir(dir)).toEqual(before);
    expectRecords(dir, c);
    expect(verifyJournal(dir).ok).toBe(true);
  });

  it('rotated: three contiguous segments; offsets are global', () => {
    const c = cases.cases.rotated!;
    const dir = copyVector('rotated');
    const report = recoverJournal(dir);
    expect(report.cuts).toEqual([]);
    expect(report.segments.map((s) => s.name)).toEqual(c.segments);
    expect(report.segmentsChecked).toBe(3);
    expect(report.head).toBe(c.head);
    expectRecords(dir, c);
  });

  it('torn-tail: truncates the file to 118 bytes; quarantine holds the 49 cut bytes; reason torn payload', () => {
    const c = cases.cases['torn-tail']!;
    const dir = copyVector('torn-tail');
    const original = readFileSync(join(dir, '0000000000000000.wal'));
    const report = recoverJournal(dir);
    expect(statSync(join(dir, '0000000000000000.wal')).size).toBe(118);
    expect(report.head).toBe(c.head);
    expect(report.cuts).toHaveLength(1);
    const cut = report.cuts[0]!;
    expect(cut).toMatchObject({ segment: '0000000000000000.wal', position: 118, offset: 86, reason: 'torn-payload', bytes: 49, wellFormedRecordsInCut: 0 });
    expect(cut.quarantine).toMatch(/^quarantine\/0000000000000000\.0000000000000076\.\d+\.bin$/);
    expect(readFileSync(join(dir, cut.quarantine)).equals(original.subarray(118))).toBe(true);
    expectRecords(dir, c);
    // a second recovery cuts nothing
    expect(recoverJournal(dir).cuts).toEqual([]);
  });

  it('bitflip-tail: truncates the last record (crc mismatch) into quarantine', () => {
    const c = cases.cases['bitflip-tail']!;
    const dir = copyVector('bitflip-tail');
    const original = readFileSync(join(dir, '0000000000000000.wal'));
    const report = recoverJournal(dir);
    expect(report.head).toBe(c.head);
    expect(report.cuts).toHaveLength(1);
    const cut = report.cuts[0]!;
    expect(cut.reason).toBe('crc-mismatch');
    expect(cut.offset).toBe(c.head);
    expect(cut.position).toBe(HEADER_SIZE + c.head);
    expect(readFileSync(join(dir, cut.quarantine)).equals(original.subarray(cut.position))).toBe(true);
    expectRecords(dir, c);
  });

  it('sealed-corrupt: open fails with a QuarantineError naming the segment, position 122, offset 90; no file changes', () => {
    const dir = copyVector('sealed-corrupt');
    const before = snapshotDir(dir);
    let error: unknown;
    try {
      recoverJournal(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QuarantineError);
    expect(isWalError(error, WalErrorCodes.Quarantine)).toBe(true);
    expect(error).toMatchObject({ segment: '0000000000000000.wal', position: 122, offset: 90 });
    expect(snapshotDir(dir)).toEqual(before);
    const verify = verifyJournal(dir);
    expect(verify.ok).toBe(false);
    expect(verify.problems[0]).toMatchObject({ segment: '0000000000000000.wal', position: 122, offset: 90 });
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('sealed-corrupt with repair: quarantines from the damaged record to the end of the log', () => {
    const dir = copyVector('sealed-corrupt');
    const seg0 = readFileSync(join(dir, '0000000000000000.wal'));
    const seg1 = readFileSync(join(dir, '00000000000000b4.wal'));
    const report = recoverJournal(dir, { repair: true });
    expect(report.repaired).toBe(true);
    expect(report.head).toBe(90);
    expect(report.cuts.map((c) => [c.segment, c.position, c.offset, c.reason, c.bytes])).toEqual([
      ['0000000000000000.wal', 122, 90, expect.stringMatching(/mismatch/), seg0.length - 122],
      ['00000000000000b4.wal', 0, 180, 'after-cut', seg1.length],
    ]);
    expect(readFileSync(join(dir, report.cuts[0]!.quarantine)).equals(seg0.subarray(122))).toBe(true);
    expect(readFileSync(join(dir, report.cuts[1]!.quarantine)).equals(seg1)).toBe(true);
    expect(report.cuts[1]!.wellFormedRecordsInCut).toBe(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.wal'))).toEqual(['0000000000000000.wal']);
    expect(recoverJournal(dir).cuts).toEqual([]);
    expect(verifyJournal(dir).ok).toBe(true);
  });

  it('empty: opens empty at head 0', () => {
    const dir = copyVector('empty');
    const report = recoverJournal(dir);
    expect(report).toMatchObject({ head: 0, earliest: 0, cuts: [], recordsVerified: 0 });
  });

  it('torn-segment-create: the 11-byte last segment is moved to quarantine whole; head stays 44', () => {
    const dir = copyVector('torn-segment-create');
    const torn = readFileSync(join(dir, '000000000000002c.wal'));
    const report = recoverJournal(dir);
    expect(report.head).toBe(44);
    expect(report.cuts).toHaveLength(1);
    expect(report.cuts[0]).toMatchObject({ segment: '000000000000002c.wal', position: 0, offset: 44, reason: 'bad-segment-header', bytes: 11 });
    expect(readFileSync(join(dir, report.cuts[0]!.quarantine)).equals(torn)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.wal'))).toEqual(['0000000000000000.wal']);
    expectRecords(dir, cases.cases['torn-segment-create']!);
  });
});
