import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recoverJournal, verifyJournal, type RecoveryReport } from '../src/index.js';
import { encodeSegmentHeader, HEADER_SIZE, RECORD_OVERHEAD } from '../src/internals.js';
import {
  holdsCut,
  noSyncIO,
  isZero,
  layoutOf,
  payloadOf,
  QUARANTINE_FILE_NAME,
  quarantineFiles,
  readLog,
  snapshotDir,
  tempDir,
  writeJournal,
} from './helpers.js';

/**
 * What FORMAT.md (Recovery, Preallocated space) says recovery must do when
 * the last segment of a valid journal is cut short at `length` bytes, checked
 * against what it does. `segments` are the payloads of the original journal.
 */
type Outcome = 'moved-aside' | 'free-space' | 'cut';

function checkTruncation(segments: Uint8Array[][], firstBase: number, length: number): Outcome {
  const template = layoutOf(segments, firstBase);
  const last = segments.length - 1;
  const lastName = template.names[last]!;
  const lastBase = template.bases[last]!;

  const dir = tempDir();
  writeJournal(dir, segments, firstBase);
  const path = join(dir, lastName);
  const original = readFileSync(path);
  expect(original.length).toBe(template.sizes[last]);
  truncateSync(path, length);
  const torn = original.subarray(0, length);

  const kept = template.records.filter((r) => r.segment < last || r.position + r.size <= length);
  const boundary = kept.filter((r) => r.segment === last).reduce((p, r) => p + r.size, HEADER_SIZE);
  const ctx = `truncated ${lastName} to ${length} of ${original.length} bytes`;

  const verify = verifyJournal(dir);
  const report: RecoveryReport = recoverJournal(dir, { io: noSyncIO });
  const q = quarantineFiles(dir);
  let outcome: Outcome;

  if (length < HEADER_SIZE) {
    outcome = 'moved-aside';
    // A last segment shorter than its header is moved to quarantine whole.
    expect(verify.ok, ctx).toBe(false);
    expect(report.cuts, ctx).toEqual([
      { segment: lastName, position: 0, offset: lastBase, reason: 'bad-segment-header', bytes: length, quarantine: expect.any(String), wellFormedRecordsInCut: 0 },
    ]);
    expect(report.head, ctx).toBe(lastBase);
    expect(q.size, ctx).toBe(1);
    const [qname, qbytes] = [...q][0]!;
    expect(report.cuts[0]!.quarantine).toBe(`quarantine/${qname}`);
    expect(qname).toMatch(QUARANTINE_FILE_NAME);
    expect(qname.startsWith(`${lastName.slice(0, 16)}.${'0'.repeat(16)}.`), ctx).toBe(true);
    expect(holdsCut(qbytes, torn), ctx).toBe(true);
    if (last > 0) {
      expect(existsSync(path), ctx).toBe(false);
      expect(report.segments.map((s) => s.name)).toEqual(template.names.slice(0, last));
    } else {
      // Nothing left: recovery starts an empty segment where the log ended.
      expect(readFileSync(path).equals(Buffer.from(encodeSegmentHeader(lastBase))), ctx).toBe(true);
      expect(report.segments.map((s) => s.name)).toEqual([lastName]);
    }
  } else {
    const tail = original.subarray(boundary, length);
    expect(report.head, ctx).toBe(lastBase + boundary - HEADER_SIZE);
    if (tail.length === 0 || isZero(tail)) {
      // On a record boundary, or zero bytes from a boundary to the end: free space, not a tear.
      outcome = 'free-space';
      expect(verify.ok, ctx).toBe(true);
      expect(verify.head, ctx).toBe(report.head);
      expect(report.cuts, ctx).toEqual([]);
      expect(q.size, ctx).toBe(0);
      const size = statSync(path).size;
      expect([length, boundary], ctx).toContain(size); // kept or trimmed
      expect(report.freeSpaceBytes, ctx).toBe(size - boundary);
      expect(readFileSync(path).equals(torn.subarray(0, size)), ctx).toBe(true);
    } else {
      outcome = 'cut';
      expect(verify.ok, ctx).toBe(false);
      expect(verify.problems, ctx).toEqual([expect.objectContaining({ segment: lastName, position: boundary, offset: report.head })]);
      const reason = tail.length < RECORD_OVERHEAD ? 'torn-header' : 'torn-payload';
      expect(report.cuts, ctx).toEqual([
        { segment: lastName, position: boundary, offset: report.head, reason, bytes: tail.length, quarantine: expect.any(String), wellFormedRecordsInCut: 0 },
      ]);
      expect(report.freeSpaceBytes, ctx).toBe(0);
      expect(q.size, ctx).toBe(1);
      const [qname, qbytes] = [...q][0]!;
      expect(report.cuts[0]!.quarantine).toBe(`quarantine/${qname}`);
      const m = QUARANTINE_FILE_NAME.exec(qname);
      expect(m, qname).not.toBeNull();
      expect(m![1]).toBe(lastName.slice(0, 16));
      expect(Number.parseInt(m![2]!, 16)).toBe(boundary);
      expect(holdsCut(qbytes, tail), ctx).toBe(true);
      expect(readFileSync(path).equals(original.subarray(0, boundary)), ctx).toBe(true);
    }
  }

  // The readable records are exactly the prefix that fit whole.
  const log = readLog(dir);
  expect(log.map((r) => r.offset), ctx).toEqual(kept.map((r) => r.offset));
  log.forEach((r, i) => expect(Buffer.from(r.payload).equals(Buffer.from(kept[i]!.payload)), `${ctx}: record ${i}`).toBe(true));
  expect(report.recordsVerified, ctx).toBe(kept.length);

  // Earlier segments are untouched.
  for (let s = 0; s < last; s++) expect(statSync(join(dir, template.names[s]!)).size).toBe(template.sizes[s]);

  // A second recovery cuts nothing and changes nothing.
  const before = snapshotDir(dir);
  const again = recoverJournal(dir, { io: noSyncIO });
  expect(again.cuts, ctx).toEqual([]);
  expect(again.head, ctx).toBe(report.head);
  expect(snapshotDir(dir), ctx).toEqual(before);
  expect(verifyJournal(dir).ok, ctx).toBe(true);
  return outcome;
}

describe('a valid journal cut short at every byte of its last segment', () => {
  // 0-byte payloads (length field all zero: a cut inside it leaves zero bytes),
  // a 256-byte one (first length byte zero), and sizes around the CRC cut-off.
  const sealed = [payloadOf(1, 0), payloadOf(2, 5), payloadOf(3, 130)];
  const active = [payloadOf(4, 0), payloadOf(5, 256), payloadOf(6, 5), payloadOf(7, 0), payloadOf(8, 91), payloadOf(9, 17)];

  it('keeps exactly the records that fit whole and quarantines exactly the cut bytes, for every length (two segments)', () => {
    const size = layoutOf([sealed, active]).sizes[1]!;
    const seen = new Map<Outcome, number>();
    for (let length = 0; length <= size; length++) {
      const o = checkTruncation([sealed, active], 0, length);
      seen.set(o, (seen.get(o) ?? 0) + 1);
    }
    // every branch of the expectation was exercised: 32 lengths below the header,
    // record boundaries and zero-only tails (inside a 0-length field), and tears
    expect(seen.get('moved-aside')).toBe(HEADER_SIZE);
    expect(seen.get('free-space')).toBeGreaterThan(active.length + 4);
    expect(seen.get('cut')).toBeGreaterThan(size / 2);
  });

  it('keeps exactly the records that fit whole, for every length of a single segment at a non-zero base', () => {
    const only = [payloadOf(10, 0), payloadOf(11, 3), payloadOf(12, 0)];
    const size = layoutOf([only]).sizes[0]!;
    for (let length = 0; length <= size; length++) checkTruncation([only], 0xabcdef, length);
  });

  it('holds for random journals of one to three segments cut at a random length', () => {
    const payload = fc.tuple(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })), fc.nat(255)).map(([n, i]) => payloadOf(i, n));
    fc.assert(
      fc.property(
        // sealed segments hold at least one record (two empty ones would share a name)
        fc.tuple(fc.array(fc.array(payload, { minLength: 1, maxLength: 4 }), { maxLength: 2 }), fc.array(payload, { maxLength: 5 })).map(([s, l]) => [...s, l]),
        fc.nat(2 ** 44),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (segments, base, at) => {
          const size = layoutOf(segments, base).sizes[segments.length - 1]!;
          checkTruncation(segments, base, Math.min(size, Math.floor(at * (size + 1))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a free-space tail made of zero bytes after the last record is left alone, however long', () => {
    // Preallocation: the same journal with zeros appended (FORMAT.md, Preallocated space).
    for (const zeros of [1, 4, 39, 40, 41, 4096]) {
      const dir = tempDir();
      const { names, head } = writeJournal(dir, [sealed, active]);
      const path = join(dir, names[1]!);
      const original = readFileSync(path);
      writeFileSync(path, Buffer.concat([original, Buffer.alloc(zeros)]));
      const report = recoverJournal(dir, { io: noSyncIO });
      expect(report.cuts).toEqual([]);
      expect(report.head).toBe(head);
      const size = statSync(path).size;
      expect(report.freeSpaceBytes).toBe(size - original.length);
      expect(readdirSync(dir)).not.toContain('quarantine');
    }
  });
});
