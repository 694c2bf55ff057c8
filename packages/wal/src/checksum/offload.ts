import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { CutReason } from '../errors.js';
import { checksums, fastChecksums, portableChecksums } from './index.js';

/*
 * Checksum offload: verifying a journal is nearly all CRC32C and BLAKE3 (see
 * bench/suites/verify.ts), and one core cannot reach the throughput goals at
 * small records. A scan frames a run of records on the main thread (lengths
 * and bounds, cheap), copies the second half of the run into shared memory
 * for a worker thread and checks the first half itself; then it waits for the
 * worker's verdict. The API stays synchronous (Atomics.wait): recovery and
 * verify are synchronous, and the FileIO seam stays on the main thread, so
 * fault injection and simulated power loss see every read.
 *
 * Sequential readers use the same worker to check runs they read ahead,
 * in this buffer or in shared buffers of their own (journal/readAhead.ts).
 *
 * The offload is an optimisation only: when it is off, not ready yet (the
 * worker starts in the background on first use; nothing waits for it), busy,
 * or broken, the main thread checks the whole run with the same result.
 */

const STATE = 0, END = 1, BAD = 2, REASON = 3, READY = 4, START = 5, BEAT = 6, MODE = 7, SLOT = 8, SLOT_GEN = 9, AT = 10;
const MODE_FULL = 0, MODE_CRC = 1;
const IDLE = 0, JOB = 1, DONE = 2, EXIT = 3;
const REASONS: Record<number, CutReason> = { 1: 'crc-mismatch', 2: 'blake3-mismatch' };

/** Runs below this size are checked on the main thread alone (copy and wake-up cost more). */
export const OFFLOAD_MIN_RUN_BYTES = 256 * 1024;
/** Largest part of a run the worker takes (the shared buffer's size). */
const CAPACITY = 4 * 1024 * 1024;
/**
 * Buffers of readers' own (see slotOf) the worker knows at a time: both
 * buffers of each of two readers reading ahead at once. The worker holds
 * each until its slot is taken by another, so this bounds what buffers of
 * readers gone keep alive (SLOTS runs read ahead, 1 MiB each at most).
 */
const SLOTS = 4;
/**
 * A worker on a job that has not shown a sign of life (a record checked) in
 * this long is given up and the main thread checks instead. Blocked in
 * Atomics.wait, the main thread never sees the worker's exit event, so a
 * silent worker is how it learns of one that died (killed, out of memory).
 * A record the worker takes is at most CAPACITY bytes, a few milliseconds of
 * hashing; only a dead or long-starved thread is silent this long, and
 * giving up a live one costs speed, never a verdict.
 */
const SILENCE_MS = 2_000;

export type OffloadVerdict = { position: number; reason: CutReason } | null | 'unchecked';

/** What a job checks, and where its records are. */
export interface JobOptions {
  /** Each record's CRC32C only (verifyOnRead: 'crc'); by default its BLAKE3 too. */
  crcOnly?: boolean;
  /** The records are in this buffer (shared memory, from `sharedBytes`), not in `bytes`. */
  buffer?: Uint8Array;
}

export class ChecksumOffload {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(16 * 4));
  private readonly data = new Uint8Array(new SharedArrayBuffer(CAPACITY));
  private readonly worker: Worker;
  /** Registrations of readers' buffers go to the worker here (it takes them synchronously at its next job). */
  private readonly port: MessagePort;
  /** The buffer registered in each slot of the worker, and how many registrations there were. */
  private readonly slots: (ArrayBufferLike | undefined)[] = [];
  private readonly slotGens: number[] = [];
  private registrations = 0;
  private broken = false;
  private pending = false;
  /** Runs handed to the worker so far (tests check that a path was offloaded). */
  jobs = 0;
  /**
   * The worker's share of a run's bytes, balanced as runs go: the main thread
   * also reads and frames, and two cores are rarely equally free on a shared
   * machine. Raised when the worker was done first, lowered when it was not.
   */
  share = 0.5;

  private constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('../../worker/checksumWorker.js', import.meta.url), {
      workerData: { ctrl: this.ctrl.buffer, data: this.data.buffer, port: port2 },
      transferList: [port2],
      stdout: true, // a worker never prints; do not tie the parent's stdout to it
    });
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => {
      this.broken = true;
    });
    this.worker.on('exit', () => {
      this.broken = true;
    });
  }

  /** The current job's ticket: `finish` answers only its owner. */
  private ticket = 0;

  /**
   * True when a job of `bytes` bytes can go to the worker right now. A
   * finished job nobody claimed (a reader that stopped reading ahead) is
   * given up; one the worker is still on is not.
   */
  usable(bytes: number, minBytes = OFFLOAD_MIN_RUN_BYTES): boolean {
    if (this.broken || bytes < minBytes || Atomics.load(this.ctrl, READY) !== 1 || !workerChecksLikeThisThread()) return false;
    if (this.pending) {
      if (Atomics.load(this.ctrl, STATE) !== DONE) return false;
      this.pending = false;
      Atomics.store(this.ctrl, STATE, IDLE);
    }
    return true;
  }

  /** The shared buffer jobs are checked in (a reader reads ahead straight into it, then calls startJob). */
  get bytes(): Uint8Array {
    return this.data;
  }

  /** Waits up to `ms` for the worker to start; true when it is ready. */
  waitReady(ms: number): boolean {
    Atomics.wait(this.ctrl, READY, 0, ms);
    return Atomics.load(this.ctrl, READY) === 1 && !this.broken;
  }

  /** Largest number of bytes `start` accepts. */
  get capacity(): number {
    return CAPACITY;
  }

  /**
   * Hands the worker `buf[from..to)`, whole records already framed. Returns
   * at once; `finish` waits for the verdict.
   */
  start(buf: Uint8Array, from: number, to: number): number {
    this.data.set(buf.subarray(from, to));
    return this.startJob(to - from);
  }

  /**
   * Hands the worker `bytes[from..to)` (or `options.buffer`'s), whole
   * records already in place; returns the job's ticket.
   */
  startJob(to: number, from = 0, options: JobOptions = {}): number {
    this.ctrl[START] = from;
    this.ctrl[AT] = from;
    this.ctrl[END] = to;
    this.ctrl[MODE] = options.crcOnly === true ? MODE_CRC : MODE_FULL;
    this.ctrl[SLOT] = options.buffer === undefined ? -1 : this.slotOf(options.buffer.buffer);
    this.pending = true;
    this.jobs++;
    Atomics.store(this.ctrl, STATE, JOB);
    Atomics.notify(this.ctrl, STATE);
    return ++this.ticket;
  }

  /**
   * The worker's slot holding `buffer`, registering it (in the slot
   * registered longest ago) when it holds none; sets the job's SLOT_GEN.
   */
  private slotOf(buffer: ArrayBufferLike): number {
    let slot = this.slots.indexOf(buffer);
    if (slot < 0) {
      slot = this.registrations % SLOTS;
      const gen = ++this.registrations;
      this.slots[slot] = buffer;
      this.slotGens[slot] = gen;
      this.port.postMessage({ slot, gen, buffer });
    }
    this.ctrl[SLOT_GEN] = this.slotGens[slot]!;
    return slot;
  }

  /** New shared memory of `size` bytes for a reader's own read-ahead (handed to `startJob` as `buffer`). */
  static sharedBytes(size: number): Uint8Array {
    return new Uint8Array(new SharedArrayBuffer(size));
  }

  /**
   * Takes the rest of CRC-only job `ticket` back from the worker still on
   * it, instead of waiting for it: returns the position in the job's buffer
   * up to which the worker found every record valid (it stops at its next
   * record), from which the caller checks the records itself. Undefined when
   * the worker has answered (call `finish`) or the job is not `ticket`'s.
   * The job stays the worker's until it stops: no other job starts meanwhile.
   */
  steal(ticket: number): number | undefined {
    if (!this.pending || ticket !== this.ticket || Atomics.load(this.ctrl, STATE) !== JOB) return undefined;
    Atomics.store(this.ctrl, END, 0);
    // read after the store: the worker either stopped at or before this, or goes on past it only into records the caller checks too
    return Atomics.load(this.ctrl, AT);
  }

  /** True when the worker is not (or no longer) on a job: `finish` would not wait. */
  get idle(): boolean {
    return Atomics.load(this.ctrl, STATE) !== JOB;
  }

  /**
   * The first bad record of the job `ticket` (its position in `bytes`, which
   * for `start` is relative to the run handed over), null when every record is valid, or 'unchecked' when the
   * worker could not answer or the job was given up: the caller then checks
   * the run itself. `balance` adjusts `share` (split runs only).
   */
  finish(ticket = this.ticket, balance = true): OffloadVerdict {
    if (!this.pending || ticket !== this.ticket) return 'unchecked'; // given up meanwhile: the data is someone else's now
    this.pending = false;
    const waited = Atomics.load(this.ctrl, STATE) === JOB;
    if (balance) this.share = Math.min(0.75, Math.max(0.25, this.share + (waited ? -0.02 : 0.02)));
    let beat = Atomics.load(this.ctrl, BEAT);
    let heard = performance.now();
    while (Atomics.load(this.ctrl, STATE) === JOB) {
      const now = performance.now();
      const latest = Atomics.load(this.ctrl, BEAT);
      if (latest !== beat) [beat, heard] = [latest, now];
      if (this.broken || now - heard >= SILENCE_MS) {
        this.giveUp();
        return 'unchecked';
      }
      const slice = Math.min(SILENCE_MS - (now - heard), 250);
      Atomics.wait(this.ctrl, STATE, JOB, slice);
      // woken far later than asked: this whole process was paused (Ctrl-Z,
      // a VM pause), the worker with it; its silence meanwhile says nothing
      if (performance.now() - now > slice + 1000) heard = performance.now();
    }
    const bad = this.ctrl[BAD]!;
    const reason = this.ctrl[REASON]!;
    Atomics.store(this.ctrl, STATE, IDLE);
    if (bad >= 0 && REASONS[reason]) return { position: bad, reason: REASONS[reason]! };
    return reason === 0 ? null : 'unchecked';
  }

  private giveUp(): void {
    this.broken = true;
    Atomics.store(this.ctrl, STATE, EXIT);
    Atomics.notify(this.ctrl, STATE);
    void this.worker.terminate();
  }

  /** Stops the worker (tests; the process exits without it: the worker is unref'd). */
  close(): void {
    if (!this.broken) this.giveUp();
  }

  private static instance: ChecksumOffload | undefined;
  private static enabled = defaultEnabled();

  /**
   * The process's offload, started on first call; undefined when off (one
   * CPU, EPISTEME_CHECKSUM_THREADS=0, setChecksumOffload(false)) or broken.
   */
  static get(): ChecksumOffload | undefined {
    if (!ChecksumOffload.enabled) return undefined;
    try {
      ChecksumOffload.instance ??= new ChecksumOffload();
    } catch {
      ChecksumOffload.enabled = false; // no worker threads here: check on the main thread
      return undefined;
    }
    return ChecksumOffload.instance.broken ? undefined : ChecksumOffload.instance;
  }

  /**
   * Turns the offload on or off for this process (benchmarks compare both);
   * returns the previous setting. Off keeps an idle worker for a later on.
   */
  static setEnabled(on: boolean): boolean {
    const prev = ChecksumOffload.enabled;
    ChecksumOffload.enabled = on;
    return prev;
  }
}

function defaultEnabled(): boolean {
  const env = process.env.EPISTEME_CHECKSUM_THREADS;
  if (env !== undefined) return env !== '0';
  return availableParallelism() > 1;
}

/** See ChecksumOffload.setEnabled. */
export function setChecksumOffload(on: boolean): boolean {
  return ChecksumOffload.setEnabled(on);
}

/**
 * Starts the checksum worker now and waits up to `timeoutMs` for it (an app
 * about to verify or recover a large journal, benchmarks). True when ready.
 */
export function warmChecksumOffload(timeoutMs = 5000): boolean {
  return ChecksumOffload.get()?.waitReady(timeoutMs) ?? false;
}

/** The worker checks with the fast checksums' libraries: it takes jobs only while this thread uses them too (not the reference a test sets). */
function workerChecksLikeThisThread(): boolean {
  const active = checksums();
  return active === fastChecksums || active === portableChecksums;
}
