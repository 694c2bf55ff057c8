import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, nodeFileIO, type Appended, type FileIO, type GroupCommitOptions, type TelemetryOptions } from '@episteme/wal';
import { encodeRecordInto, RECORD_OVERHEAD } from '@episteme/wal/internals';

/**
 * The workloads of the append suite: durable and non-durable appends through
 * the Journal, and the same bytes written with plain node:fs (the raw limits
 * of this disk). Each workload runs in time slices (`slice(ms)`) so that the
 * suite can interleave them: this VM's disk alternates between fast and slow
 * phases of 10-30 s (shared/notes/disk-and-peers.md), and only figures taken
 * in the same minutes, slice after slice, can be compared.
 */

export interface SliceResult {
  records: number;
  ms: number;
  /** fdatasync calls made for these records (journal: counted through the FileIO seam). */
  syncs: number;
  /** Time from each fdatasync call to its completion, summed (ms). */
  syncMs: number;
  /** Time during which at least one fdatasync ran (ms): below syncMs when syncs overlap (pipelined group commit). */
  syncBusyMs: number;
}

export interface Workload {
  key: string;
  label: string;
  payloadBytes: number;
  /** CPU-bound (no sync per record): given shorter slices. */
  cpuBound: boolean;
  /** Per-append (journal) or per-write+sync (raw) latency, µs; absent when not measured. */
  latency?: LatencyLog;
  open(): Promise<void>;
  slice(ms: number): Promise<SliceResult>;
  /** Untimed, after every slice: flush what a slice left dirty and drop old data, so the next workload starts clean. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const RING = 256;
const MiB = 1024 * 1024;

/** Latencies in µs in a growable typed array (no per-sample allocation while measuring). */
export class LatencyLog {
  private data = new Float64Array(1 << 16);
  private n = 0;

  push(us: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.n * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = us;
  }

  reset(): void {
    this.n = 0;
  }

  get count(): number {
    return this.n;
  }

  /** Nearest-rank percentiles, p in (0, 1]. */
  percentiles(ps: number[]): number[] {
    if (this.n === 0) return ps.map(() => NaN);
    const sorted = this.data.slice(0, this.n).sort();
    return ps.map((p) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1))]!);
  }
}

/**
 * 256 distinct payloads of one size (windows into random bytes) and the same
 * 256 records encoded back to back: the raw workloads write exactly the bytes
 * the journal would write, without computing them.
 */
export class PayloadPool {
  readonly payloads: Uint8Array[];
  readonly records: Uint8Array;
  readonly recordBytes: number;

  constructor(readonly payloadBytes: number) {
    const pool = randomBytes(MiB + payloadBytes);
    const span = pool.length - payloadBytes;
    this.payloads = Array.from({ length: RING }, (_, i) => {
      const at = (i * 7919) % span;
      return pool.subarray(at, at + payloadBytes);
    });
    this.recordBytes = RECORD_OVERHEAD + payloadBytes;
    this.records = new Uint8Array(RING * this.recordBytes);
    let pos = 0;
    for (const p of this.payloads) pos = encodeRecordInto(p, this.records, pos);
  }

  payload(i: number): Uint8Array {
    return this.payloads[i & (RING - 1)]!;
  }
}

/** Zeros written and synced: the "overwrite allocated space" case (what SQLite's WAL and the journal's preallocation aim at). */
function preallocatedFile(path: string, bytes: number): number {
  const fd = openSync(path, 'w+');
  const zeros = new Uint8Array(Math.min(bytes, 4 * MiB));
  for (let pos = 0; pos < bytes; pos += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - pos), pos);
  fdatasyncSync(fd);
  return fd;
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

abstract class RawFile implements Workload {
  protected fd = -1;
  protected pos = 0;
  latency?: LatencyLog;
  abstract cpuBound: boolean;

  constructor(
    readonly key: string,
    readonly label: string,
    protected readonly path: string,
    protected readonly pool: PayloadPool,
    /** > 0: a pre-written file of this size, overwritten in a ring; 0: a growing file. */
    protected readonly preallocate: number,
  ) {}

  get payloadBytes(): number {
    return this.pool.payloadBytes;
  }

  async open(): Promise<void> {
    this.fd = this.preallocate > 0 ? preallocatedFile(this.path, this.preallocate) : openSync(this.path, 'w+');
  }

  abstract slice(ms: number): Promise<SliceResult>;

  /** Next write position for `bytes`: the ring wraps, a growing file grows. */
  protected advance(bytes: number): number {
    if (this.preallocate > 0 && this.pos + bytes > this.preallocate) this.pos = 0;
    const at = this.pos;
    this.pos += bytes;
    return at;
  }

  async settle(): Promise<void> {
    // a growing file starts again from empty once it is large (bounded disk use, and every slice allocates)
    if (this.preallocate === 0 && this.pos > 64 * MiB) {
      fdatasyncSync(this.fd);
      ftruncateSync(this.fd, 0);
      this.pos = 0;
      fdatasyncSync(this.fd);
    }
  }

  async close(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** writeSync of one record at a time, no sync: the CPU and page-cache limit. */
export class RawNoSync extends RawFile {
  cpuBound = true;

  constructor(dir: string, pool: PayloadPool) {
    super(`raw-nosync-${pool.payloadBytes}`, 'raw writeSync per record, no sync', join(dir, 'raw-nosync'), pool, 0);
  }

  async slice(ms: number): Promise<SliceResult> {
    const { fd } = this;
    const { records: buf, recordBytes: rb } = this.pool;
    let n = 0;
    const t0 = performance.now();
    const deadline = t0 + ms;
    let pos = this.pos;
    do {
      for (let k = 0; k < 64; k++, n++) {
        writeSync(fd, buf, (n & (RING - 1)) * rb, rb, pos);
        pos += rb;
      }
    } while (performance.now() < deadline);
    const elapsed = performance.now() - t0;
    this.pos = pos;
    return { records: n, ms: elapsed, syncs: 0, syncMs: 0, syncBusyMs: 0 };
  }

  override async settle(): Promise<void> {
    // untimed: the dirty pages of this slice must not be flushed during the next workload's slice
    fdatasyncSync(this.fd);
    ftruncateSync(this.fd, 0);
    this.pos = 0;
    fdatasyncSync(this.fd);
  }
}

/**
 * N records per writeSync, then one fdatasync (N = 1: write+sync per record).
 * `asyncSync` uses the callback fdatasync (the libuv thread pool), as the
 * journal does, instead of fdatasyncSync: the difference is the cost of the
 * hop to the pool and back.
 */
export class RawSynced extends RawFile {
  cpuBound = false;
  override latency = new LatencyLog();

  constructor(
    dir: string,
    pool: PayloadPool,
    readonly perSync: number,
    preallocate: number,
    private readonly asyncSync = false,
  ) {
    const file = preallocate > 0 ? 'preallocated' : 'growing file';
    const what = perSync === 1 ? 'write+fdatasync per record' : `${perSync} records per write + fdatasync`;
    super(
      `raw-sync${perSync}-${preallocate > 0 ? 'pre' : 'grow'}${asyncSync ? '-async' : ''}-${pool.payloadBytes}`,
      `raw ${what} (${file}${asyncSync ? ', async fdatasync' : ''})`,
      join(dir, `raw-sync-${perSync}-${preallocate > 0 ? 'pre' : 'grow'}${asyncSync ? '-async' : ''}`),
      pool,
      preallocate,
    );
    if (perSync > RING) throw new Error(`raw batches of at most ${RING} records`);
  }

  async slice(ms: number): Promise<SliceResult> {
    const { fd, perSync } = this;
    const { records: buf, recordBytes: rb } = this.pool;
    const bytes = perSync * rb;
    const lat = this.latency;
    let n = 0;
    let syncs = 0;
    let syncMs = 0;
    const start = performance.now();
    const deadline = start + ms;
    let t0 = start;
    do {
      // single records walk the ring of 256 distinct ones; a batch is the first N
      const from = perSync === 1 ? (syncs & (RING - 1)) * rb : 0;
      writeSync(fd, buf, from, bytes, this.advance(bytes));
      const s0 = performance.now();
      if (this.asyncSync) await fdatasyncAsync(fd);
      else fdatasyncSync(fd);
      const t1 = performance.now();
      syncMs += t1 - s0;
      lat.push((t1 - t0) * 1000);
      t0 = t1;
      n += perSync;
      syncs++;
    } while (t0 < deadline);
    return { records: n, ms: t0 - start, syncs, syncMs, syncBusyMs: syncMs };
  }
}

/**
 * The ceiling of an appending log at a given batch size, with no CPU work per
 * record: N records per write to a growing file, zero-filled `zeroAhead`
 * bytes ahead of the writes as the journal preallocates (FORMAT.md:
 * preallocated space), each batch synced with the async fdatasync, and at
 * most two syncs in flight as in the journal's group-commit pipeline.
 * RawSynced's preallocated ring overwrites pages that were written and
 * cached before the timing began; a log that appends pays for fresh pages
 * and blocks instead, which this row measures.
 */
export class RawAppendPipelined extends RawFile {
  cpuBound = false;
  override latency = new LatencyLog();
  /** End of the zero-filled space. */
  private allocated = 0;
  private readonly zeros: Uint8Array;

  constructor(
    dir: string,
    pool: PayloadPool,
    readonly perSync: number,
    private readonly zeroAhead: number,
  ) {
    super(
      `raw-append${perSync}-${pool.payloadBytes}`,
      `raw ${perSync} records per write, appending (${zeroAhead / MiB} MiB zero-filled ahead), 2 async fdatasyncs in flight`,
      join(dir, `raw-append-${perSync}`),
      pool,
      0,
    );
    if (perSync > RING) throw new Error(`raw batches of at most ${RING} records`);
    this.zeros = new Uint8Array(Math.min(Math.max(zeroAhead, 1), 4 * MiB));
  }

  async slice(ms: number): Promise<SliceResult> {
    const { fd, perSync } = this;
    const { records: buf, recordBytes: rb } = this.pool;
    const bytes = perSync * rb;
    const lat = this.latency;
    const pending: Promise<void>[] = [];
    let n = 0;
    let syncs = 0;
    let syncMs = 0;
    let running = 0;
    let busySince = 0;
    let busyMs = 0;
    const synced = (written: number): Promise<void> => {
      const s0 = performance.now();
      if (running++ === 0) busySince = s0;
      return fdatasyncAsync(fd).then(() => {
        const t1 = performance.now();
        syncMs += t1 - s0;
        if (--running === 0) busyMs += t1 - busySince;
        lat.push((t1 - written) * 1000);
      });
    };
    const start = performance.now();
    const deadline = start + ms;
    do {
      if (pending.length >= 2) await pending.shift();
      const t0 = performance.now();
      const at = this.pos;
      if (at + bytes > this.allocated) this.zeroFill(at + bytes);
      writeSync(fd, buf, 0, bytes, at);
      this.pos += bytes;
      pending.push(synced(t0));
      n += perSync;
      syncs++;
    } while (performance.now() < deadline);
    await Promise.all(pending);
    return { records: n, ms: performance.now() - start, syncs, syncMs, syncBusyMs: busyMs };
  }

  /** As the journal does: zeros from the end of the coming write to `zeroAhead` past the allocated end. */
  private zeroFill(upTo: number): void {
    const target = Math.max(upTo, this.allocated + this.zeroAhead);
    for (let pos = Math.max(this.allocated, upTo); pos < target; ) {
      const k = Math.min(this.zeros.length, target - pos);
      writeSync(this.fd, this.zeros, 0, k, pos);
      pos += k;
    }
    this.allocated = target;
  }

  override async settle(): Promise<void> {
    await super.settle();
    if (this.pos === 0) this.allocated = 0;
  }
}

export type Drive = { appenders: number } | { inFlight: number };

/**
 * Appends through a Journal. `appenders: C` runs C async loops, each awaiting
 * its own append before the next (C = 1: one caller awaiting each append);
 * `inFlight: W` issues W appends, awaits them all, repeats (a producer that
 * does not wait per record). fdatasync calls are counted through the FileIO
 * seam, which gives the records per sync that group commit achieved.
 */
export class JournalAppends implements Workload {
  readonly cpuBound: boolean;
  readonly latency?: LatencyLog;
  private journal: Journal | undefined;
  private syncs = 0;
  private syncMs = 0;
  private syncBusyMs = 0;
  /** Syncs running now, and since when at least one has. */
  private running = 0;
  private busySince = 0;
  /** Syncs outside slices (settle), not counted. */
  private readonly io: FileIO;

  constructor(
    readonly key: string,
    readonly label: string,
    private readonly dir: string,
    private readonly pool: PayloadPool,
    private readonly options: { durability: 'none' | 'immediate'; groupCommit?: boolean | GroupCommitOptions; preallocateBytes?: number; telemetry?: TelemetryOptions | false },
    private readonly drive: Drive,
  ) {
    this.cpuBound = options.durability === 'none';
    if ('appenders' in drive) this.latency = new LatencyLog();
    this.io = {
      ...nodeFileIO,
      fsyncAsync: async (fd) => {
        this.syncs++;
        const t0 = performance.now();
        if (this.running++ === 0) this.busySince = t0;
        try {
          await nodeFileIO.fsyncAsync(fd);
        } finally {
          const t1 = performance.now();
          this.syncMs += t1 - t0;
          if (--this.running === 0) this.syncBusyMs += t1 - this.busySince;
        }
      },
    };
  }

  get payloadBytes(): number {
    return this.pool.payloadBytes;
  }

  async open(): Promise<void> {
    this.journal = await Journal.open({ dir: this.dir, ...this.options, io: this.io });
  }

  async slice(ms: number): Promise<SliceResult> {
    const j = this.journal!;
    const pool = this.pool;
    const syncs0 = this.syncs;
    const syncMs0 = this.syncMs;
    const busy0 = this.syncBusyMs;
    let records = 0;
    const start = performance.now();
    const deadline = start + ms;
    if ('inFlight' in this.drive) {
      const w = this.drive.inFlight;
      const pending: Promise<Appended>[] = new Array<Promise<Appended>>(w);
      do {
        for (let k = 0; k < w; k++) pending[k] = j.append(pool.payload(records + k));
        await Promise.all(pending);
        records += w;
      } while (performance.now() < deadline);
    } else {
      const c = this.drive.appenders;
      const lat = this.latency!;
      const appender = async (first: number): Promise<void> => {
        let i = first;
        let t0 = performance.now();
        while (t0 < deadline) {
          await j.append(pool.payload(i));
          const t1 = performance.now();
          lat.push((t1 - t0) * 1000);
          t0 = t1;
          records++;
          i += c;
        }
      };
      const loops: Promise<void>[] = [];
      for (let k = 0; k < c; k++) loops.push(appender(k));
      await Promise.all(loops);
    }
    return { records, ms: performance.now() - start, syncs: this.syncs - syncs0, syncMs: this.syncMs - syncMs0, syncBusyMs: this.syncBusyMs - busy0 };
  }

  async settle(): Promise<void> {
    const j = this.journal!;
    // durability none: sync what the slice left (untimed); then drop sealed segments to bound disk use
    if (this.options.durability === 'none') await j.sync();
    j.deleteBelow(j.head);
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
  }
}
