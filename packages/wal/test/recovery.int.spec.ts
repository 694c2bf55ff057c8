import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWalError, QuarantineError, recoverJournal, verifyJournal, WalErrorCodes, type RecoveryReport } from '../src/index.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodeRecord, encodeSegmentHeader, HEADER_SIZE, QUARANTINE_DIR, RECORD_OVERHEAD, segmentName } from '../src/internals.js';
import { crc32cJs } from '../src/checksum/index.js';
import {
  flipBit,
  holdsCut,
  layoutOf,
  payloadOf,
  QUARANTINE_FILE_NAME,
  quarantineFiles,
  readLog,
  RecordingIO,
  snapshotDir,
  tempDir,
  thrown,
  writeJournal,
  type FaultOp,
} from './helpers.js';

const segs = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
const qname = (cut: { quarantine: string }): string => cut.quarantine.slice(QUARANTINE_DIR.length + 1);

/** A header with valid CRC but any field chosen (FORMAT.md, Segment header). */
function craftedHeader(fields: { magic?: string; version?: number; flags?: number; base: number; reserved?: number }): Uint8Array {
  const h = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(h.buffer);
  h.set(Buffer.from(fields.magic ?? 'EWAL', 'latin1'), 0);
  dv.setUint16(4, fields.version ?? 2, true);
  dv.setUint16(6, fields.flags ?? 0, true);
  dv.setBigUint64(8, BigInt(fields.base), true);
  if (fields.reserved !== undefined) h[20] = fields.reserved;
  dv.setUint32(28, crc32cJs(h, 0, 28, 0), true);
  return h;
}

describe('preallocated zero space', () => {
  const sealed = [payloadOf(1, 9), payloadOf(2, 0)];
  const active = [payloadOf(3, 0), payloadOf(4, 200)];

  it('after the last record of the last segment is free space: no cut, head at the last record, free bytes reported', () => {
    for (const zeros of [1, 3, 39, 40, 41, 4096, 1 << 20]) {
      const dir = tempDir();
      const { names, head } = writeJournal(dir, [sealed, active], 77);
      const path = join(dir, names[1]!);
      const written = readFileSync(path);
      writeFileSync(path, Buffer.concat([written, Buffer.alloc(zeros)]));

      const verify = verifyJournal(dir);
      expect(verify.ok, `${zeros} zeros`).toBe(true);
      expect(verify.head).toBe(head);
      const report = recoverJournal(dir);
      expect(report.cuts, `${zeros} zeros`).toEqual([]);
      expect(report.head).toBe(head);
      const size = statSync(path).size;
      expect([written.length + zeros, written.length]).toContain(size); // kept or trimmed (FORMAT.md allows both)
      expect(report.freeSpaceBytes).toBe(size - written.length);
      expect(readFileSync(path).subarray(0, written.length).equals(written)).toBe(true);
      expect(existsSync(join(dir, QUARANTINE_DIR))).toBe(false);
      expect(readLog(dir)).toHaveLength(sealed.length + active.length);
      expect(recoverJournal(dir)).toMatchObject({ cuts: [], head });
    }
  });

  it('a last segment holding only its header and zeros is an empty log at its base', () => {
    const dir = tempDir();
    const { names, head } = writeJournal(dir, [sealed, []], 5);
    writeFileSync(join(dir, names[1]!), Buffer.concat([encodeSegmentHeader(head), Buffer.alloc(1000)]));
    const report = recoverJournal(dir);
    expect(report).toMatchObject({ cuts: [], head, freeSpaceBytes: statSync(join(dir, names[1]!)).size - HEADER_SIZE });
  });

  it('a torn record before zero space is cut (the copy may leave out the trailing zeros), and the segment ends at that record', () => {
    // The record's length fits in the preallocated file, so its missing bytes read as zeros: a CRC mismatch, not a short file.
    const dir = tempDir();
    const { names, head } = writeJournal(dir, [sealed, active], 0);
    const path = join(dir, names[1]!);
    const written = readFileSync(path);
    const torn = encodeRecord(payloadOf(9, 500)).subarray(0, 300);
    const bytes = Buffer.concat([written, torn, Buffer.alloc(4096)]);
    writeFileSync(path, bytes);
    const report = recoverJournal(dir);
    expect(report.cuts).toEqual([
      { segment: names[1], position: written.length, offset: head, reason: 'crc-mismatch', bytes: torn.length + 4096, quarantine: expect.any(String), wellFormedRecordsInCut: 0 },
    ]);
    expect(holdsCut(quarantineFiles(dir).get(qname(report.cuts[0]!))!, bytes.subarray(written.length))).toBe(true);
    expect(readFileSync(path).equals(written)).toBe(true);
    expect(report.freeSpaceBytes).toBe(0);
  });

  it('zero space inside a sealed segment is damage: QuarantineError, nothing changes; repair cuts it', () => {
    for (const zeros of [10, 100]) {
      const dir = tempDir();
      const l = layoutOf([sealed, active], 0);
      // the sealed segment keeps its zeros and the next base accounts for them: only the zeros are wrong
      writeFileSync(join(dir, l.names[0]!), Buffer.concat([encodeSegmentHeader(0), ...sealed.map((p) => encodeRecord(p)), Buffer.alloc(zeros)]));
      const base1 = l.sizes[0]! - HEADER_SIZE + zeros;
      writeFileSync(join(dir, segmentName(base1)), Buffer.concat([encodeSegmentHeader(base1), ...active.map((p) => encodeRecord(p))]));
      const before = snapshotDir(dir);
      const err = thrown(() => recoverJournal(dir));
      expect(err).toBeInstanceOf(QuarantineError);
      expect(err).toMatchObject({
        code: WalErrorCodes.Quarantine,
        segment: l.names[0],
        position: l.sizes[0],
        offset: l.sizes[0]! - HEADER_SIZE,
        reason: zeros < RECORD_OVERHEAD ? 'torn-header' : 'crc-mismatch',
      });
      expect(snapshotDir(dir)).toEqual(before);
      expect(verifyJournal(dir).problems).toMatchObject([{ segment: l.names[0], position: l.sizes[0] }]);
      expect(snapshotDir(dir)).toEqual(before);

      const report = recoverJournal(dir, { repair: true });
      expect(report.head).toBe(l.sizes[0]! - HEADER_SIZE);
      expect(report.cuts.map((c) => [c.segment, c.position, c.bytes])).toEqual([
        [l.names[0], l.sizes[0], zeros],
        [segmentName(base1), 0, statSync(join(dir, QUARANTINE_DIR, qname(report.cuts[1]!))).size],
      ]);
      expect(readLog(dir)).toHaveLength(sealed.length);
    }
  });
});

describe('length over the limit', () => {
  // Changed with review finding F12: a record over the limit that is whole
  // and verifies was written under a larger limit; cutting it would
  // quarantine acknowledged data, so recovery refuses and changes nothing.
  it('a valid record longer than maxPayloadBytes is refused with MaxPayloadTooSmallError and nothing changes', () => {
    const dir = tempDir();
    const { names, offsets } = writeJournal(dir, [[payloadOf(1, 100), payloadOf(2, 101), payloadOf(3, 5)]]);
    const before = snapshotDir(dir);
    const err = thrown(() => recoverJournal(dir, { maxPayloadBytes: 100 }));
    expect(err).toMatchObject({
      code: WalErrorCodes.MaxPayloadTooSmall,
      segment: names[0],
      position: HEADER_SIZE + offsets[1]!,
      offset: offsets[1],
      payloadLength: 101,
      limit: 100,
    });
    expect(thrown(() => recoverJournal(dir, { maxPayloadBytes: 100, repair: true }))).toMatchObject({ code: WalErrorCodes.MaxPayloadTooSmall });
    expect(snapshotDir(dir)).toEqual(before);
    expect(recoverJournal(dir, { maxPayloadBytes: 101 }).cuts).toEqual([]);
  });

  it('a record over maxPayloadBytes that does not verify is cut with reason length-over-limit', () => {
    const dir = tempDir();
    const { names, offsets } = writeJournal(dir, [[payloadOf(1, 100), payloadOf(2, 101), payloadOf(3, 5)]]);
    flipBit(join(dir, names[0]!), HEADER_SIZE + offsets[1]! + RECORD_OVERHEAD + 50, 3);
    const report = recoverJournal(dir, { maxPayloadBytes: 100 });
    // the record after it is within the limit and intact: it counts as well-formed
    expect(report.cuts).toMatchObject([{ segment: names[0], position: HEADER_SIZE + offsets[1]!, offset: offsets[1], reason: 'length-over-limit', wellFormedRecordsInCut: 1 }]);
    expect(report.head).toBe(offsets[1]);
  });

  it('a length field of the default limit + 1 is length-over-limit, the limit itself is torn-payload (the file is shorter)', () => {
    for (const [n, reason] of [
      [DEFAULT_MAX_PAYLOAD_BYTES + 1, 'length-over-limit'],
      [DEFAULT_MAX_PAYLOAD_BYTES, 'torn-payload'],
      [0xffffffff, 'length-over-limit'],
    ] as const) {
      const dir = tempDir();
      const { names, head } = writeJournal(dir, [[payloadOf(1, 10)]]);
      const rec = encodeRecord(payloadOf(2, 64));
      new DataView(rec.buffer).setUint32(0, n, true);
      writeFileSync(join(dir, names[0]!), Buffer.concat([readFileSync(join(dir, names[0]!)), rec]));
      const report = recoverJournal(dir);
      expect(report.cuts).toMatchObject([{ offset: head, reason, bytes: rec.length }]);
    }
  });
});

describe('contiguity of segments', () => {
  const segments = [[payloadOf(1, 10), payloadOf(2, 0)], [payloadOf(3, 30)], [payloadOf(4, 7)]];

  /** The journal with the second segment's base (and file name) moved by `delta`, the third following it. */
  function shifted(delta: number): { dir: string; names: string[]; bases: number[]; files: Buffer[] } {
    const dir = tempDir();
    const l = layoutOf(segments, 1000);
    const bases = [l.bases[0]!, l.bases[1]! + delta, l.bases[2]! + delta];
    const files = segments.map((payloads, i) => Buffer.concat([encodeSegmentHeader(bases[i]!), ...payloads.map((p) => encodeRecord(p))]));
    const names = bases.map((b) => segmentName(b));
    files.forEach((f, i) => writeFileSync(join(dir, names[i]!), f));
    return { dir, names, bases, files };
  }

  for (const [what, delta] of [
    ['a gap', 16],
    ['an overlap', -16],
  ] as const) {
    it(`${what} between segments is a QuarantineError with reason segment-gap and nothing changes; repair moves the later segments to quarantine`, () => {
      const { dir, names, bases, files } = shifted(delta);
      const before = snapshotDir(dir);
      const err = thrown(() => recoverJournal(dir));
      expect(err).toBeInstanceOf(QuarantineError);
      expect(err).toMatchObject({ code: 'WAL_QUARANTINE', segment: names[1], position: 0, offset: bases[1], reason: 'segment-gap' });
      expect(snapshotDir(dir)).toEqual(before);
      const verify = verifyJournal(dir);
      expect(verify.ok).toBe(false);
      expect(verify.problems).toMatchObject([{ segment: names[1], position: 0, reason: 'segment-gap' }]);
      expect(snapshotDir(dir)).toEqual(before);

      const report = recoverJournal(dir, { repair: true });
      expect(report.repaired).toBe(true);
      expect(report.head).toBe(bases[0]! + files[0]!.length - HEADER_SIZE);
      expect(report.cuts.map((c) => [c.segment, c.position, c.offset, c.reason, c.bytes])).toEqual([
        [names[1], 0, bases[1], 'segment-gap', files[1]!.length],
        [names[2], 0, bases[2], 'after-cut', files[2]!.length],
      ]);
      const q = quarantineFiles(dir);
      report.cuts.forEach((c, i) => expect(q.get(qname(c))!.equals(files[i + 1]!)).toBe(true));
      expect(segs(dir)).toEqual([names[0]]);
      expect(readFileSync(join(dir, names[0]!)).equals(files[0]!)).toBe(true);
      expect(recoverJournal(dir).cuts).toEqual([]);
      expect(verifyJournal(dir).ok).toBe(true);
    });
  }
});

describe('the header of the last segment', () => {
  const sealed = [payloadOf(1, 12)];
  const active = [payloadOf(2, 3), payloadOf(3, 0)];

  function journalWithLast(make: (base: number, records: Buffer) => Uint8Array): { dir: string; name: string; base: number; bytes: Uint8Array } {
    const dir = tempDir();
    const { names, head } = writeJournal(dir, [sealed]);
    const name = segmentName(head);
    const bytes = make(head, Buffer.concat(active.map((p) => encodeRecord(p))));
    writeFileSync(join(dir, name), bytes);
    expect(names).toEqual([segmentName(0)]);
    return { dir, name, base: head, bytes };
  }

  const badHeaders: Array<[string, (base: number) => Uint8Array]> = [
    ['a wrong magic', (b) => craftedHeader({ magic: 'EWAX', base: b })],
    ['version 3', (b) => craftedHeader({ version: 3, base: b })],
    ['unknown flags', (b) => craftedHeader({ flags: 1, base: b })],
    ['non-zero reserved bytes', (b) => craftedHeader({ reserved: 1, base: b })],
    ['a base offset that differs from the file name', (b) => craftedHeader({ base: b + 40 })],
    ['a header CRC mismatch', (b) => Buffer.from(encodeSegmentHeader(b)).fill(0x11, 28, 29)],
    ['an all-zero header followed by non-zero bytes', () => new Uint8Array(HEADER_SIZE)],
  ];
  for (const [what, header] of badHeaders) {
    it(`with ${what} is a QuarantineError with reason bad-segment-header, and nothing changes`, () => {
      const { dir, name, base } = journalWithLast((b, records) => Buffer.concat([header(b), records]));
      const before = snapshotDir(dir);
      const err = thrown(() => recoverJournal(dir));
      expect(err).toBeInstanceOf(QuarantineError);
      expect(err).toMatchObject({ segment: name, position: 0, offset: base, reason: 'bad-segment-header' });
      expect((err as Error).message).toMatch(new RegExp(`^the last segment ${name} is damaged at file position 0`)); // not "sealed"
      expect(snapshotDir(dir)).toEqual(before);
      expect(verifyJournal(dir).problems).toMatchObject([{ segment: name, position: 0, reason: 'bad-segment-header' }]);
    });
  }

  const tornCreates: Array<[string, (base: number) => Uint8Array]> = [
    ['empty', () => new Uint8Array(0)],
    ['1 byte long', (b) => encodeSegmentHeader(b).subarray(0, 1)],
    ['31 bytes long', (b) => encodeSegmentHeader(b).subarray(0, 31)],
    ['32 zero bytes', () => new Uint8Array(HEADER_SIZE)],
    ['all zero, 4 KiB', () => new Uint8Array(4096)],
  ];
  for (const [what, make] of tornCreates) {
    it(`that is ${what} is moved to quarantine whole and the log ends at the previous segment`, () => {
      const { dir, name, base, bytes } = journalWithLast((b) => make(b));
      const report = recoverJournal(dir);
      expect(report.cuts).toEqual([
        { segment: name, position: 0, offset: base, reason: 'bad-segment-header', bytes: bytes.length, quarantine: expect.any(String), wellFormedRecordsInCut: 0 },
      ]);
      expect(holdsCut(quarantineFiles(dir).get(qname(report.cuts[0]!))!, bytes)).toBe(true);
      expect(report.head).toBe(base);
      expect(segs(dir)).toEqual([segmentName(0)]);
      expect(readLog(dir)).toHaveLength(sealed.length);
      expect(recoverJournal(dir).cuts).toEqual([]);
    });
  }
});

describe('well-formed records inside the cut bytes', () => {
  const payloads = [payloadOf(1, 20), payloadOf(2, 0), payloadOf(3, 50), payloadOf(4, 9)];

  it('are counted after a bit flip in the last segment (media corruption)', () => {
    const dir = tempDir();
    const { names, offsets } = writeJournal(dir, [payloads]);
    flipBit(join(dir, names[0]!), HEADER_SIZE + offsets[1]! + 10, 3);
    const report = recoverJournal(dir);
    expect(report.cuts).toMatchObject([{ offset: offsets[1], reason: 'crc-mismatch', wellFormedRecordsInCut: 2 }]);
  });

  it('are zero for a torn tail', () => {
    const dir = tempDir();
    const { names } = writeJournal(dir, [payloads]);
    const path = join(dir, names[0]!);
    writeFileSync(path, readFileSync(path).subarray(0, statSync(path).size - 3));
    const report = recoverJournal(dir);
    expect(report.cuts).toMatchObject([{ reason: 'torn-payload', wellFormedRecordsInCut: 0 }]);
  });
});

describe('repair of a bit flip in the first of three segments', () => {
  const segments = [
    [payloadOf(1, 10), payloadOf(2, 30), payloadOf(3, 0)],
    [payloadOf(4, 5), payloadOf(5, 0)],
    [payloadOf(6, 15)],
  ];
  const l = layoutOf(segments, 2048);
  const damaged = l.records[1]!; // second record of the first segment

  function damagedJournal(): { dir: string; files: Buffer[] } {
    const dir = tempDir();
    writeJournal(dir, segments, 2048);
    flipBit(join(dir, l.names[0]!), damaged.position + RECORD_OVERHEAD + 7, 0);
    return { dir, files: l.names.map((n) => readFileSync(join(dir, n))) };
  }

  /** The bytes that a repair must move out of the log, per segment name. */
  function cutBytes(files: Buffer[]): Map<string, Buffer> {
    return new Map(l.names.map((n, i) => [n, i === 0 ? files[0]!.subarray(damaged.position) : files[i]!]));
  }

  function expectRepaired(dir: string, files: Buffer[]): void {
    const log = readLog(dir);
    expect(log.map((r) => r.offset)).toEqual([l.records[0]!.offset]);
    expect(segs(dir)).toEqual([l.names[0]]);
    expect(readFileSync(join(dir, l.names[0]!)).equals(files[0]!.subarray(0, damaged.position))).toBe(true);
    // every cut byte is in some quarantine file
    const q = [...quarantineFiles(dir).values()];
    for (const [name, bytes] of cutBytes(files)) expect(q.some((f) => holdsCut(f, bytes)), `${name} is in quarantine`).toBe(true);
    expect(recoverJournal(dir).cuts).toEqual([]);
    expect(verifyJournal(dir).ok).toBe(true);
  }

  it('is refused without repair, and with repair quarantines the rest of the log in order', () => {
    const { dir, files } = damagedJournal();
    const before = snapshotDir(dir);
    const err = thrown(() => recoverJournal(dir));
    expect(err).toMatchObject({ code: 'WAL_QUARANTINE', segment: l.names[0], position: damaged.position, offset: damaged.offset, reason: 'crc-mismatch' });
    expect(snapshotDir(dir)).toEqual(before);

    const t0 = Date.now();
    const report: RecoveryReport = recoverJournal(dir, { repair: true });
    const t1 = Date.now();
    expect(report.repaired).toBe(true);
    expect(report.head).toBe(damaged.offset);
    expect(report.cuts.map((c) => [c.segment, c.position, c.offset, c.reason, c.bytes, c.wellFormedRecordsInCut])).toEqual([
      [l.names[0], damaged.position, damaged.offset, 'crc-mismatch', files[0]!.length - damaged.position, 1],
      [l.names[1], 0, l.bases[1], 'after-cut', files[1]!.length, 2],
      [l.names[2], 0, l.bases[2], 'after-cut', files[2]!.length, 1],
    ]);
    const q = quarantineFiles(dir);
    expect(q.size).toBe(3);
    report.cuts.forEach((c, i) => {
      const m = QUARANTINE_FILE_NAME.exec(qname(c));
      expect(m, c.quarantine).not.toBeNull();
      expect(m![1]).toBe(c.segment.slice(0, 16));
      expect(Number.parseInt(m![2]!, 16)).toBe(c.position);
      expect(Number(m![3])).toBeGreaterThanOrEqual(t0);
      expect(Number(m![3])).toBeLessThanOrEqual(t1 + 3); // same-millisecond names are bumped
      expect(holdsCut(q.get(qname(c))!, [...cutBytes(files).values()][i]!)).toBe(true);
    });
    expectRepaired(dir, files);
  });

  // Count the calls a clean repair makes, then fail each one in turn (a crash
  // or an I/O error at that point), check nothing was lost, and resume.
  function failEachStep(ops: FaultOp[]): number {
    const probe = new RecordingIO();
    recoverJournal(damagedJournal().dir, { repair: true, io: probe });
    expect(probe.calls.rename).toBe(2);
    let injected = 0;
    for (const op of ops) {
      for (let n = 1; n <= probe.calls[op]; n++) {
        const ctx = `failing ${op} #${n}`;
        const { dir, files } = damagedJournal();
        const io = new RecordingIO(undefined, { [op]: n });
        const err = thrown(() => recoverJournal(dir, { repair: true, io }));
        expect(io.faulted, ctx).toBe(true);
        // soft: an untyped error is a failure, but the invariants below are still checked
        expect.soft(isWalError(err), `${ctx}: only WalErrors may escape, got ${String(err)}`).toBe(true);
        injected++;

        // The segments left are a contiguous prefix of the original ones; the
        // first may already be truncated at the damage, the others are whole.
        const left = segs(dir);
        expect(left, ctx).toEqual(l.names.slice(0, left.length));
        expect(left.length, ctx).toBeGreaterThan(0);
        const first = readFileSync(join(dir, l.names[0]!));
        expect([files[0]!.length, damaged.position], ctx).toContain(first.length);
        expect(first.equals(files[0]!.subarray(0, first.length)), ctx).toBe(true);
        left.slice(1).forEach((n, i) => expect(readFileSync(join(dir, n)).equals(files[i + 1]!), ctx).toBe(true));
        // nothing is lost: every cut byte is still in the log or in some quarantine file
        const q = [...quarantineFiles(dir).values()];
        for (const [name, bytes] of cutBytes(files)) {
          const inLog = name === l.names[0] ? first.length === files[0]!.length : left.includes(name);
          expect(inLog || q.some((f) => holdsCut(f, bytes)), `${ctx}: bytes of ${name}`).toBe(true);
        }

        // Resume: a repair (or, once only the first segment is left, a plain recovery) finishes the job.
        recoverJournal(dir, { repair: true });
        expectRepaired(dir, files);
      }
    }
    return injected;
  }

  it('resumes safely after a crash on the Nth rename: the log stays a valid prefix and every cut byte is in the log or in quarantine', () => {
    expect(failEachStep(['rename'])).toBe(2);
  });

  it('resumes safely after failing at any other step (open, read, write, fsync, truncate, mkdir, directory sync), and the failure is a WalError', () => {
    expect(failEachStep(['open', 'read', 'write', 'fsync', 'truncate', 'mkdir', 'syncDir'])).toBeGreaterThan(15);
  });
});

describe('a repair that quarantines every segment', () => {
  const segments = [[payloadOf(1, 10)], [payloadOf(2, 4)]];
  const l = layoutOf(segments, 4096);
  const setup = (): string => {
    const dir = tempDir();
    writeJournal(dir, segments, 4096);
    flipBit(join(dir, l.names[0]!), 3, 0); // the header of the first segment
    return dir;
  };

  it('leaves an empty segment where the log ended, so that offsets do not go back', () => {
    const report = recoverJournal(setup(), { repair: true });
    expect(report).toMatchObject({ head: 4096, earliest: 4096, repaired: true });
    expect(report.segments.map((s) => [s.name, s.size])).toEqual([[l.names[0], HEADER_SIZE]]);
  });

  it('keeps the head where the log ended when it fails at any step and is resumed', () => {
    const probe = new RecordingIO();
    recoverJournal(setup(), { repair: true, io: probe });
    const ops: FaultOp[] = ['open', 'read', 'write', 'fsync', 'truncate', 'rename', 'mkdir', 'syncDir'];
    const lost: string[] = [];
    for (const op of ops) {
      for (let n = 1; n <= probe.calls[op]; n++) {
        const dir = setup();
        const io = new RecordingIO(undefined, { [op]: n });
        thrown(() => recoverJournal(dir, { repair: true, io }));
        expect(io.faulted).toBe(true);
        // Cursors may point anywhere up to 4096: the log must not restart at 0.
        const again = recoverJournal(dir, { repair: true });
        if (again.head !== 4096 || verifyJournal(dir).head !== 4096) lost.push(`failing ${op} #${n}: head ${again.head}, segments ${segs(dir).join(',') || 'none'}`);
      }
    }
    expect(lost).toEqual([]);
  });
});

describe('quarantine file names', () => {
  it('are <base hex16>.<position hex16>.<unix ms>.bin from the clock option, bumped when the same name exists', () => {
    const dir = tempDir();
    const { names, head } = writeJournal(dir, [[payloadOf(1, 8)]], 0x1234);
    const path = join(dir, names[0]!);
    const clean = readFileSync(path);
    const torn = encodeRecord(payloadOf(2, 100)).subarray(0, 60);
    const now = (): number => 1_700_000_000_123;
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      writeFileSync(path, Buffer.concat([clean, torn]));
      const report = recoverJournal(dir, { now });
      expect(report.cuts).toHaveLength(1);
      seen.push(qname(report.cuts[0]!));
    }
    const pos = (HEADER_SIZE + head - 0x1234).toString(16).padStart(16, '0');
    expect(seen).toEqual([
      `0000000000001234.${pos}.1700000000123.bin`,
      `0000000000001234.${pos}.1700000000124.bin`,
      `0000000000001234.${pos}.1700000000125.bin`,
    ]);
    for (const n of seen) expect(n).toMatch(QUARANTINE_FILE_NAME);
    for (const bytes of quarantineFiles(dir).values()) expect(bytes.equals(torn)).toBe(true);
  });
});
