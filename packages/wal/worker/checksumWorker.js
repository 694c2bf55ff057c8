// @ts-check
/**
 * The checksum worker of @episteme/wal (src/checksum/offload.ts): checks the
 * CRC32C and BLAKE3 of a run of records the main thread has already framed
 * (lengths and bounds checked) and copied into shared memory, while the main
 * thread checks the run before it. Plain JavaScript on purpose: a worker
 * thread loads it without a TypeScript loader, from src/ in tests and from
 * the published package alike. The checksum libraries are the ones
 * src/checksum/index.ts picks (test/checksumOffload.spec.ts cross-checks the
 * verdicts against it).
 *
 * Protocol (Int32Array `ctrl` over a SharedArrayBuffer): the main thread
 * writes the positions in `data` where the records to check start and end to
 * ctrl[START] and ctrl[END] and sets ctrl[STATE] to JOB; this thread
 * answers with the position of the first bad record (-1 if none) in ctrl[BAD]
 * and its reason in ctrl[REASON], then sets STATE to DONE. While on a job it
 * bumps ctrl[BEAT] after every record: the main thread, blocked in
 * Atomics.wait, cannot see this thread's exit event, so a beat that stops is
 * how it learns that this thread died.
 *
 * A job is in `data` unless ctrl[SLOT] names another buffer: a reader's own
 * read-ahead buffer (src/journal/readAhead.ts), registered in that slot by a
 * message on `port` posted before the job (ctrl[SLOT_GEN] is the
 * registration's number; the message is taken here synchronously, as this
 * thread never runs its event loop). ctrl[MODE] says what to check: the
 * CRC32C and BLAKE3 of each record, or its CRC32C only. A CRC-only job
 * publishes in ctrl[AT] the end of the records found valid so far, and
 * stops at the next record once the main thread has lowered ctrl[END]:
 * a reader back before this thread is done takes the rest of the run over
 * instead of waiting (this thread may be waiting for a CPU).
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { crc32c } from '@node-rs/crc32';
import { blake3 } from '@napi-rs/blake-hash';
import { hashInto } from 'blake3-jit';

const STATE = 0, END = 1, BAD = 2, REASON = 3, READY = 4, START = 5, BEAT = 6, MODE = 7, SLOT = 8, SLOT_GEN = 9, AT = 10;
const MODE_FULL = 0;
const IDLE = 0, JOB = 1, DONE = 2, EXIT = 3;
const REASON_NONE = 0, REASON_CRC = 1, REASON_BLAKE3 = 2, REASON_INTERNAL = 3;
const RECORD_OVERHEAD = 40;
const BLAKE3_NATIVE_FROM = 1025;

/** @type {{ ctrl: SharedArrayBuffer, data: SharedArrayBuffer, port: import('node:worker_threads').MessagePort }} */
const shared = workerData;
const ctrl = new Int32Array(shared.ctrl);
/** The buffer of the job at hand. */
let data = new Uint8Array(shared.data);
const ownData = data;
/** Registered buffers: slot -> { gen, bytes } (the main thread decides which slot a buffer replaces). */
/** @type {{ gen: number, bytes: Uint8Array }[]} */
const slots = [];

/**
 * The buffer the job names, or undefined when its registration has not
 * arrived (then the job is answered as not checked: the main thread checks).
 */
function jobBuffer() {
  const slot = ctrl[SLOT];
  if (slot < 0) return ownData;
  for (;;) {
    const m = receiveMessageOnPort(shared.port);
    if (m === undefined) break;
    /** @type {{ slot: number, gen: number, buffer: SharedArrayBuffer }} */
    const r = m.message;
    slots[r.slot] = { gen: r.gen, bytes: new Uint8Array(r.buffer) };
  }
  const s = slots[slot];
  return s !== undefined && s.gen === ctrl[SLOT_GEN] ? s.bytes : undefined;
}
const digest = new Uint8Array(32);

// CRC32C table for the 4-byte length prefix (a native call costs more than the bytes)
const T0 = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T0[n] = c >>> 0;
}

/** @param {number} pos */
function lengthPrefixCrc(pos) {
  let crc = 0xffffffff;
  for (let i = pos; i < pos + 4; i++) crc = T0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** @param {number} pos */
function u32(pos) {
  return (data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16) | (data[pos + 3] << 24)) >>> 0;
}

/**
 * @param {number} from position of the first record in data
 * @param {number} to end of the last one
 * @param {boolean} full the BLAKE3 of each record too, not only its CRC32C
 */
function checkRun(from, to, full) {
  for (let pos = from; pos < to; ) {
    const n = u32(pos);
    const end = pos + RECORD_OVERHEAD + n;
    if (crc32c(data.subarray(pos + 8, end), lengthPrefixCrc(pos)) !== u32(pos + 4)) return [pos, REASON_CRC];
    if (!full) {
      pos = end;
      Atomics.store(ctrl, AT, pos);
      ctrl[BEAT]++;
      if (pos >= Atomics.load(ctrl, END)) break; // the main thread took the rest over
      continue;
    }
    const payload = data.subarray(pos + RECORD_OVERHEAD, end);
    if (n < BLAKE3_NATIVE_FROM) hashInto(payload, digest);
    else digest.set(blake3(payload));
    for (let i = 0; i < 32; i++) if (digest[i] !== data[pos + 8 + i]) return [pos, REASON_BLAKE3];
    pos = end;
    ctrl[BEAT]++;
  }
  return [-1, REASON_NONE];
}

Atomics.store(ctrl, READY, 1);
Atomics.notify(ctrl, READY);
for (;;) {
  const state = Atomics.load(ctrl, STATE);
  if (state === EXIT) break;
  if (state !== JOB) {
    Atomics.wait(ctrl, STATE, state); // until the main thread posts a job (or resets a finished one)
    continue;
  }
  let bad = -1;
  let reason = REASON_INTERNAL;
  ctrl[BEAT]++; // taken up
  try {
    const buffer = jobBuffer();
    if (buffer !== undefined) {
      data = buffer;
      [bad, reason] = checkRun(ctrl[START], ctrl[END], ctrl[MODE] === MODE_FULL);
    }
  } catch {
    // the main thread checks the run itself
  }
  ctrl[BAD] = bad;
  ctrl[REASON] = reason;
  Atomics.store(ctrl, STATE, DONE);
  Atomics.notify(ctrl, STATE);
}
