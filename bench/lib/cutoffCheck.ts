import { blake3 as napiBlake3 } from '@napi-rs/blake-hash';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { hashInto as jitHashInto } from 'blake3-jit';
import { verifyJournal } from '@episteme/wal';
import { checksums, crc32cJs, RECORD_OVERHEAD, setChecksums, type Checksums } from '@episteme/wal/internals';
// Not public API: the cut-offs under test, read from the provider's source.
import { BLAKE3_NATIVE_FROM, CRC_NATIVE_FROM } from '../../packages/wal/src/checksum/index.js';
import { generateJournal } from './journal.js';
import { interleavedRoundsWithCpu, median } from './timing.js';

/**
 * The per-call micro-benchmarks hash a small hot pool; a verify streams
 * through megabytes, with inputs at whatever alignment the record sizes give
 * (blake3-jit has a faster path for 4-byte aligned input), so a cut-off read
 * off the micro tables can be wrong in practice. This checks each cut-off end
 * to end: verifyJournal over the same journal with the provider as it is and
 * with a copy that sends this size to the other library.
 */

/** The fast provider's code with the cut-offs as parameters. */
export function providerWithCutoffs(crcNativeFrom: number, blake3NativeFrom: number): Checksums {
  return {
    name: `fast, CRC native from ${crcNativeFrom} B, BLAKE3 native from ${blake3NativeFrom} B`,
    crc32c(data, start, end, previous) {
      if (end - start < crcNativeFrom) return crc32cJs(data, start, end, previous);
      return nativeCrc32c(data.subarray(start, end), previous);
    },
    blake3Into(data, start, end, out, outOffset) {
      const view = data.subarray(start, end);
      if (end - start < blake3NativeFrom) {
        jitHashInto(view, outOffset === 0 && out.length === 32 ? out : out.subarray(outOffset, outOffset + 32));
      } else {
        out.set(napiBlake3(view), outOffset);
      }
    },
  };
}

export interface CutoffProbe {
  kind: 'CRC' | 'BLAKE3';
  /** Smallest payload; sizes cycle over 4 consecutive values so that every alignment occurs. */
  payloadBytes: number;
}

const SPREAD = 4;

export interface CutoffResult {
  probe: CutoffProbe;
  /** Input lengths the checksum sees: CRC covers digest + payload (36 + N), BLAKE3 the payload. */
  inputFrom: number;
  inputTo: number;
  providerUses: string;
  otherUses: string;
  providerMBps: number;
  otherMBps: number;
  /** > 1: the other library is faster at this size. */
  wallRatio: number;
  cpuRatio: number;
}

export function checkCutoff(dir: string, probe: CutoffProbe, totalBytes: number, segmentBytes: number, rounds: number): CutoffResult {
  const lo = probe.kind === 'CRC' ? probe.payloadBytes + RECORD_OVERHEAD - 4 : probe.payloadBytes;
  const hi = lo + SPREAD - 1;
  const cut = probe.kind === 'CRC' ? CRC_NATIVE_FROM : BLAKE3_NATIVE_FROM;
  if (lo < cut && hi >= cut) throw new Error(`probe ${probe.kind} ${lo}-${hi} B straddles the cut-off ${cut} B`);
  const nativeNow = lo >= cut;
  // Move the cut-off just past this range, in the direction that flips it.
  const moved = nativeNow ? hi + 1 : lo;
  const other = probe.kind === 'CRC' ? providerWithCutoffs(moved, BLAKE3_NATIVE_FROM) : providerWithCutoffs(CRC_NATIVE_FROM, moved);
  const journal = generateJournal(dir, { payloadBytes: probe.payloadBytes, sizeSpread: SPREAD, totalBytes, segmentBytes });
  const active = checksums();
  const verifyWith = (impl: Checksums) => () => {
    setChecksums(impl);
    try {
      const r = verifyJournal(dir);
      if (!r.ok || r.recordsVerified !== journal.records) throw new Error(`verify with ${impl.name}: ${r.problems[0]?.message ?? 'record count differs'}`);
    } finally {
      setChecksums(active);
    }
  };
  const cases = { provider: verifyWith(active), other: verifyWith(other) };
  interleavedRoundsWithCpu(1, cases);
  const { wall, cpu } = interleavedRoundsWithCpu(rounds, cases);
  const mbps = (ms: number): number => journal.fileBytes / 1e6 / (ms / 1e3);
  const names = probe.kind === 'CRC' ? ['js table', '@node-rs/crc32'] : ['blake3-jit', '@napi-rs/blake-hash'];
  return {
    probe,
    inputFrom: lo,
    inputTo: hi,
    providerUses: nativeNow ? names[1]! : names[0]!,
    otherUses: nativeNow ? names[0]! : names[1]!,
    providerMBps: mbps(median(wall.provider)),
    otherMBps: mbps(median(wall.other)),
    wallRatio: median(wall.provider) / median(wall.other),
    cpuRatio: median(cpu.provider) / median(cpu.other),
  };
}
