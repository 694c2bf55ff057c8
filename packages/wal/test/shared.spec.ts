import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileIO, type FileIO } from '../src/index.js';
import {
  closeQuietly,
  codeOf,
  crc32cHex,
  errnoOf,
  hasErrno,
  ioError,
  isProcessAlive,
  openEnvelope,
  RECOVERY_POINT_FILE,
  sealEnvelope,
  sleep,
  unlinkQuietly,
  writeRecoveryPoint,
  type EnvelopeLayout,
} from '../src/internals.js';

const BARE: EnvelopeLayout = { length: false, kind: 'recovery point' };
const SNAPSHOT: EnvelopeLayout = { magic: 'episteme-snapshot v1', length: true, kind: 'snapshot file' };
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('the checksummed-file envelope', () => {
  // the bytes each format wrote before the envelope existed, spelled out: they must not move
  it('writes the recovery point and snapshot layouts byte for byte', () => {
    expect(text(sealEnvelope(BARE, Buffer.from('{"a":1}')))).toBe('cff7d56a\n{"a":1}');
    expect(text(sealEnvelope(SNAPSHOT, Buffer.from('{"name":"p","version":1}')))).toBe('episteme-snapshot v1 24 2c3bd476\n{"name":"p","version":1}');
    expect(text(sealEnvelope(SNAPSHOT, new Uint8Array(0)))).toBe('episteme-snapshot v1 0 00000000\n');
    expect(crc32cHex(Buffer.from('{"a":1}'))).toBe('cff7d56a');
  });

  it('a recovery point on disk is the bare envelope of its JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'envelope-'));
    try {
      writeRecoveryPoint(nodeFileIO, dir, [[0, 100]], 1024);
      const body = '{"format":1,"maxPayloadBytes":1024,"segments":[[0,100]]}';
      expect(readFileSync(join(dir, RECOVERY_POINT_FILE), 'utf8')).toBe(`${crc32cHex(Buffer.from(body))}\n${body}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens what it sealed, and names what is wrong with anything else', () => {
    const body = Buffer.from('{"x":"é"}');
    for (const layout of [BARE, SNAPSHOT]) expect(openEnvelope(layout, sealEnvelope(layout, body))).toEqual({ body });
    const sealed = sealEnvelope(SNAPSHOT, body);
    expect(openEnvelope(SNAPSHOT, sealed.subarray(0, sealed.length - 1))).toEqual({ damage: `body is ${body.length - 1} bytes, header says ${body.length}` });
    const flipped = Buffer.from(sealed);
    const at = flipped.length - 2;
    flipped[at] = flipped[at]! ^ 1;
    expect(openEnvelope(SNAPSHOT, flipped)).toMatchObject({ damage: expect.stringMatching(/^checksum mismatch \(stored [0-9a-f]{8}, computed [0-9a-f]{8}\)$/) });
    expect(openEnvelope(SNAPSHOT, Buffer.from('no newline at all'))).toEqual({ damage: 'no header line' });
    expect(openEnvelope(SNAPSHOT, Buffer.from(`${'x'.repeat(101)}\n{}`))).toEqual({ damage: 'no header line' });
    expect(openEnvelope(SNAPSHOT, Buffer.from('episteme-snapshot v2 2 00000000\n{}'))).toEqual({ damage: 'not a snapshot file' });
    expect(openEnvelope(SNAPSHOT, sealEnvelope(BARE, body))).toEqual({ damage: 'not a snapshot file' });
    expect(openEnvelope(BARE, Buffer.from('garbage\n{}'))).toMatchObject({ damage: expect.stringContaining('checksum mismatch') });
    expect(openEnvelope(BARE, sealEnvelope(SNAPSHOT, body))).toEqual({ damage: 'not a recovery point' });
  });
});

describe('errno helpers', () => {
  const enoent = Object.assign(new Error('gone'), { code: 'ENOENT' });

  it('read the errno of an error, or of the error a typed one wraps', () => {
    expect(errnoOf(enoent)).toBe('ENOENT');
    expect(errnoOf(ioError('opening', '/x', enoent))).toBe('ENOENT');
    expect(errnoOf(new Error('plain'))).toBeUndefined();
    expect(errnoOf(Object.assign(new Error('typed'), { code: 'WAL_IO' }))).toBeUndefined();
    expect(errnoOf(undefined)).toBeUndefined();
    expect(errnoOf(null)).toBeUndefined();
    expect(hasErrno(enoent, 'EEXIST', 'ENOENT')).toBe(true);
    expect(hasErrno(enoent, 'EEXIST')).toBe(false);
    expect(hasErrno('ENOENT', 'ENOENT')).toBe(false);
  });

  it('codeOf gives any code for a message, errno or Episteme', () => {
    expect(codeOf(enoent)).toBe('ENOENT');
    expect(codeOf(ioError('opening', '/x', enoent))).toBe('WAL_IO');
    expect(codeOf({ code: 7 })).toBeUndefined();
    expect(codeOf(undefined)).toBeUndefined();
  });
});

describe('sleep', () => {
  it('waits, and ends early when its signal aborts, or at once when it already has', async () => {
    let t = performance.now();
    await sleep(20);
    expect(performance.now() - t).toBeGreaterThanOrEqual(15);
    const stop = new AbortController();
    t = performance.now();
    setTimeout(() => stop.abort(), 5);
    await sleep(10_000, stop.signal);
    expect(performance.now() - t).toBeLessThan(5_000);
    t = performance.now();
    await sleep(10_000, stop.signal);
    expect(performance.now() - t).toBeLessThan(5_000);
  });
});

describe('isProcessAlive', () => {
  it('is true for this process, false for a process that ended and for what names no process', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const ended = spawnSync(process.execPath, ['-e', '0']).pid;
    // a pid is reused only after the kernel cycles through its range
    expect(isProcessAlive(ended)).toBe(false);
    for (const pid of [0, -1, 1.5, Number.NaN]) expect(isProcessAlive(pid), String(pid)).toBe(false);
  });
});

describe('closers', () => {
  const failing = { close: () => { throw new Error('EIO'); }, unlink: () => { throw new Error('EACCES'); } } as unknown as FileIO;
  let unlinked: string[] = [];
  const working = { close: () => undefined, unlink: (p: string) => void unlinked.push(p) } as unknown as FileIO;
  afterEach(() => {
    unlinked = [];
  });

  it('swallow the failure of a close or an unlink, and say whether the unlink happened', () => {
    expect(() => closeQuietly(failing, 3)).not.toThrow();
    expect(unlinkQuietly(failing, '/x')).toBe(false);
    closeQuietly(working, 3);
    expect(unlinkQuietly(working, '/y')).toBe(true);
    expect(unlinked).toEqual(['/y']);
  });
});
