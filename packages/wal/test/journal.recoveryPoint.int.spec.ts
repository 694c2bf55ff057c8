import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError, verifyJournal } from '../src/index.js';
import { HEADER_SIZE, RECORD_OVERHEAD, RECOVERY_POINT_FILE } from '../src/internals.js';
import { payloadOf, snapshotDir, tempDir } from './helpers.js';

async function journalWithSegments(): Promise<{ dir: string; offsets: number[] }> {
  const dir = tempDir();
  const j = await Journal.open({ dir, maxSegmentBytes: 600, preallocateBytes: 0 });
  const offsets: number[] = [];
  for (let i = 0; i < 60; i++) offsets.push((await j.append(payloadOf(i, 50))).offset);
  await j.close();
  return { dir, offsets };
}

const segmentFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();

describe('recovery point', () => {
  it('lets a writer reopen without rescanning the sealed segments it sealed or verified; only the last one is scanned', async () => {
    const { dir, offsets } = await journalWithSegments();
    const sealed = segmentFiles(dir).length - 1;
    expect(sealed).toBeGreaterThan(3);
    const j = await Journal.open({ dir });
    expect(j.recovery!.segmentsTrusted).toBe(sealed);
    expect(j.recovery!.recordsVerified).toBeLessThan(offsets.length / 2);
    expect(j.head).toBe(offsets[59]! + RECORD_OVERHEAD + 50);
    await j.close();
    const full = await Journal.open({ dir, scanSealedOnOpen: true });
    expect(full.recovery!).toMatchObject({ segmentsTrusted: 0, recordsVerified: 60 });
    await full.close();
  });

  it('does not hide damage: a bit flip in a trusted sealed segment fails the read of that record and verify, and a full scan refuses to open', async () => {
    const { dir, offsets } = await journalWithSegments();
    const first = join(dir, segmentFiles(dir)[0]!);
    const bytes = readFileSync(first);
    bytes[HEADER_SIZE + RECORD_OVERHEAD + 10]! ^= 0x04; // inside the payload of record 0
    writeFileSync(first, bytes);
    const before = snapshotDir(dir);
    const j = await Journal.open({ dir });
    expect(j.recovery!.cuts).toEqual([]);
    let err: unknown;
    try {
      j.read(offsets[0]!);
    } catch (e) {
      err = e;
    }
    expect(isWalError(err)).toBe(true);
    expect(Buffer.from(j.read(offsets[1]!)!.payload).equals(Buffer.from(payloadOf(1, 50)))).toBe(true);
    await j.close();
    expect(verifyJournal(dir).ok).toBe(false);
    const strict = await Journal.open({ dir, scanSealedOnOpen: true }).catch((e: unknown) => e);
    expect(isWalError(strict, WalErrorCodes.Quarantine)).toBe(true);
    // the segments are untouched (only the recovery point may have been rewritten)
    const after = snapshotDir(dir);
    delete before[RECOVERY_POINT_FILE];
    delete after[RECOVERY_POINT_FILE];
    expect(after).toEqual(before);
  });

  it('trusts nothing from a damaged recovery point, or for a segment whose size changed', async () => {
    const { dir } = await journalWithSegments();
    writeFileSync(join(dir, RECOVERY_POINT_FILE), 'garbage\n{}');
    const j = await Journal.open({ dir });
    expect(j.recovery!.segmentsTrusted).toBe(0);
    await j.close();
    const point = readFileSync(join(dir, RECOVERY_POINT_FILE), 'utf8');
    const body = JSON.parse(point.slice(point.indexOf('\n') + 1)) as { segments: Array<[number, number]> };
    expect(body.segments.length).toBe(segmentFiles(dir).length - 1);
    // a sealed segment grown behind the journal's back: scanned (and here refused as a gap)
    const first = join(dir, segmentFiles(dir)[0]!);
    writeFileSync(first, Buffer.concat([readFileSync(first), Buffer.alloc(7)]));
    const err = await Journal.open({ dir }).catch((e: unknown) => e);
    expect(isWalError(err, WalErrorCodes.Quarantine)).toBe(true);
  });
});
