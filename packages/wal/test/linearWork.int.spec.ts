import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWalError, recoverJournal, verifyJournal } from '../src/index.js';
import { encodeRecord, encodeSegmentHeader, HEADER_SIZE, RECORD_OVERHEAD, segmentName } from '../src/internals.js';
import { guarded, LOOP_GUARD } from './guarded.js';
import { noSyncIO, payloadOf, RecordingIO, snapshotDir, tempDir, thrown, writeJournal } from './helpers.js';

/* Split from badInput.int.spec.ts: the work of recovery stays linear in the bytes on disk, and read failures stay typed. */

describe('work stays linear in the bytes on disk', LOOP_GUARD, () => {
  it('counting well-formed records in a cut full of plausible length fields checksums a bounded number of bytes', () => {
    // A damaged record whose payload is an array of small u32 values: after the
    // damage, every 4th position inside it claims a length that fits the cut.
    const values = new Uint8Array(512 * 1024);
    const dv = new DataView(values.buffer);
    for (let i = 0; i < values.length; i += 4) dv.setUint32(i, 1000 + (i % 1000), true);
    const dir = tempDir();
    const rec = encodeRecord(values);
    rec[RECORD_OVERHEAD + 100]! ^= 1;
    writeFileSync(join(dir, segmentName(0)), Buffer.concat([encodeSegmentHeader(0), encodeRecord(payloadOf(1, 3)), rec]));
    const out = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io }));
    expect(out.value!.cuts).toMatchObject([{ position: HEADER_SIZE + 43, reason: 'crc-mismatch', wellFormedRecordsInCut: 0 }]);
  });
});

describe('the well-formed count stays exact while its work stays linear', LOOP_GUARD, () => {
  it('counts the intact records after a bit flip in a record whose payload is an array of small integers', () => {
    // Media corruption inside a binary payload: the records after it are intact,
    // so the count must be theirs (FORMAT.md: non-zero points at media
    // corruption), and finding them must not cost a checksum per byte of the cut.
    const values = new Uint8Array(256 * 1024);
    const dv = new DataView(values.buffer);
    for (let i = 0; i < values.length; i += 4) dv.setUint32(i, (i >> 2) % 256, true);
    const dir = tempDir();
    const first = encodeRecord(payloadOf(1, 3));
    const damaged = encodeRecord(values);
    damaged[RECORD_OVERHEAD + 1000]! ^= 4;
    writeFileSync(
      join(dir, segmentName(0)),
      Buffer.concat([encodeSegmentHeader(0), first, damaged, encodeRecord(payloadOf(2, 20)), encodeRecord(payloadOf(3, 0))]),
    );
    const out = guarded(dir, 'recoverJournal', (io) => recoverJournal(dir, { io }));
    expect(out.error).toBeUndefined();
    expect(out.value!.cuts).toMatchObject([{ position: HEADER_SIZE + first.length, reason: 'crc-mismatch', wellFormedRecordsInCut: 2 }]);
  });
});

describe('a failing disk read surfaces as a typed error', LOOP_GUARD, () => {
  it('every read that fails during verifyJournal or recoverJournal gives a WalError (WAL_IO), and recovery changes nothing', () => {
    const segments = [[payloadOf(1, 10), payloadOf(2, 0)], [payloadOf(3, 30)]];
    const make = (): string => {
      const dir = tempDir();
      const { names } = writeJournal(dir, segments);
      // a torn tail, so that recovery also reads for the zero check, the count and the copy
      const path = join(dir, names[1]!);
      writeFileSync(path, readFileSync(path).subarray(0, statSync(path).size - 5));
      return dir;
    };
    const leaks: string[] = [];
    for (const op of ['verify', 'recover'] as const) {
      const probe = new RecordingIO(noSyncIO);
      if (op === 'verify') verifyJournal(make(), { io: probe });
      else recoverJournal(make(), { io: probe });
      expect(probe.calls.read).toBeGreaterThan(3);
      for (let n = 1; n <= probe.calls.read; n++) {
        const dir = make();
        const before = snapshotDir(dir);
        const io = new RecordingIO(noSyncIO, { read: n });
        const err = thrown(() => (op === 'verify' ? verifyJournal(dir, { io }) : recoverJournal(dir, { io })));
        expect(io.faulted).toBe(true);
        if (!isWalError(err, 'WAL_IO')) leaks.push(`${op}: read #${n} of ${io.reads[n - 1]!.path.split('/').pop()} at ${io.reads[n - 1]!.position} threw ${String(err)}`);
        // the failed read came before any change
        if (op === 'recover' && n <= probe.calls.read - 1) expect(snapshotDir(dir)).toEqual(before);
      }
    }
    expect(leaks).toEqual([]);
  });
});
