import { openSync, closeSync, truncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileIO, verifyJournal } from '../src/index.js';
import { crc32cJs, RECORD_OVERHEAD } from '../src/internals.js';
import { ChecksumOffload, OFFLOAD_MIN_RUN_BYTES } from '../src/checksum/offload.js';
import { scanSegment } from '../src/recovery/scanSegment.js';
import { HEADER_SIZE, payloadOf, readyOffload, tempDir, withoutChecksumOffload, writeJournal } from './helpers.js';
import { seededRandom } from './rng.js';

const MAX = 16 << 20;

function scan(path: string): ReturnType<typeof scanSegment> {
  const fd = openSync(path, 'r');
  try {
    return scanSegment(nodeFileIO, fd, { maxPayloadBytes: MAX });
  } finally {
    closeSync(fd);
  }
}

describe('checksum offload (a worker thread checks half of each run)', () => {
  it('gives the verdicts of the main thread alone, on clean and damaged segments of every record size', () => {
    const offload = ChecksumOffload.get();
    if (!offload) {
      console.warn('checksum offload disabled here (one CPU or EPISTEME_CHECKSUM_THREADS=0): nothing to compare');
      return;
    }
    expect(offload.waitReady(20_000), 'the worker did not start').toBe(true);
    const jobsBefore = offload.jobs;
    const rnd = seededRandom(20261124);
    const kinds = ['clean', 'bit flip', 'length over the limit', 'torn tail', 'zero tail', 'wrong digest, valid CRC'] as const;
    let damagedFoundByWorker = 0;
    for (let c = 0; c < 60; c++) {
      const kind = kinds[c % kinds.length]!;
      // small (JS CRC, blake3-jit), medium and large (native BLAKE3) payloads, 1.5-3 MiB per segment
      const sizeClass = [64, 300, 1500, 5000][c % 4]!;
      const payloads: Uint8Array[] = [];
      for (let bytes = 0, i = 0; bytes < (1.5 + rnd() * 1.5) * 1024 * 1024; i++) {
        const p = payloadOf(i + c * 1000, Math.floor(rnd() * sizeClass));
        payloads.push(p);
        bytes += RECORD_OVERHEAD + p.length;
      }
      const dir = tempDir();
      const { names, offsets } = writeJournal(dir, [payloads]);
      const path = join(dir, names[0]!);
      const size = readFileSync(path).length;
      const victim = Math.floor(rnd() * payloads.length);
      const at = HEADER_SIZE + offsets[victim]!;
      if (kind === 'bit flip') {
        const bytes = readFileSync(path);
        const byte = at + 8 + Math.floor(rnd() * (32 + payloads[victim]!.length)); // digest or payload: a checksum verdict
        bytes[byte]! ^= 1 << Math.floor(rnd() * 8);
        writeFileSync(path, bytes);
      } else if (kind === 'length over the limit') {
        const bytes = readFileSync(path);
        bytes.writeUInt32LE(MAX + 1, at);
        writeFileSync(path, bytes);
      } else if (kind === 'wrong digest, valid CRC') {
        // only the BLAKE3 check can tell: the CRC is recomputed over the damaged bytes
        const bytes = readFileSync(path);
        bytes[at + 8 + Math.floor(rnd() * 32)]! ^= 0x01;
        const end = at + RECORD_OVERHEAD + payloads[victim]!.length;
        bytes.writeUInt32LE(crc32cJs(bytes, at + 8, end, crc32cJs(bytes, at, at + 4, 0)), at + 4);
        writeFileSync(path, bytes);
      } else if (kind === 'torn tail') {
        truncateSync(path, at + Math.floor(rnd() * (RECORD_OVERHEAD + payloads[victim]!.length)));
      } else if (kind === 'zero tail') {
        const bytes = Buffer.concat([readFileSync(path), Buffer.alloc(64 * 1024)]);
        writeFileSync(path, bytes);
      }
      const offloaded = scan(path);
      const alone = withoutChecksumOffload(() => scan(path));
      expect(offloaded, `case ${c} (${kind}, payloads < ${sizeClass} B, victim ${victim} of ${payloads.length}, file ${size} B)`).toEqual(alone);
      if (kind !== 'clean' && kind !== 'zero tail') expect(offloaded.failure, `case ${c}`).toBeDefined();
      if (kind === 'wrong digest, valid CRC') expect(offloaded.failure?.reason, `case ${c}`).toBe('blake3-mismatch');
      if ((kind === 'bit flip' || kind === 'wrong digest, valid CRC') && at - HEADER_SIZE > size / 2) damagedFoundByWorker++;
    }
    expect(offload.jobs - jobsBefore, 'no run was offloaded: the comparison proved nothing').toBeGreaterThan(30);
    expect(damagedFoundByWorker, 'no damage fell in a worker half').toBeGreaterThan(0);
  });

  it('verifyJournal reports the same problems with and without the offload', (ctx) => {
    const offload = readyOffload(ctx);
    const dir = tempDir();
    const payloads = Array.from({ length: 12_000 }, (_, i) => payloadOf(i, 200 + (i % 90)));
    const { names, offsets } = writeJournal(dir, [payloads.slice(0, 6000), payloads.slice(6000)]);
    // damage deep in the sealed segment, where the worker's half of a run lies
    const sealed = join(dir, names[0]!);
    const bytes = readFileSync(sealed);
    bytes[HEADER_SIZE + offsets[5000]! + 50]! ^= 0x10;
    writeFileSync(sealed, bytes);
    expect(bytes.length).toBeGreaterThan(OFFLOAD_MIN_RUN_BYTES);
    const strip = (r: ReturnType<typeof verifyJournal>) => ({ ...r, durationMs: 0 });
    const offloaded = strip(verifyJournal(dir));
    const alone = strip(withoutChecksumOffload(() => verifyJournal(dir)));
    expect(offloaded).toEqual(alone);
    expect(offloaded.problems).toHaveLength(1);
    expect(offloaded.problems[0]!.offset).toBe(offsets[5000]);
  });
});
