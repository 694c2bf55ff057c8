/**
 * The contract suite's logs: the same behaviour tests run over a journal
 * (byte offsets, segment files) and over InMemoryLog (record sequence
 * numbers, chunks in memory), through a small factory per implementation.
 * A test that assumes byte offsets, or reaches past the interfaces, fails
 * over one of them.
 */
import { mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Journal, type CursorStore, type LogReader, type Retention } from '@episteme/wal';
import { HEADER_SIZE } from '@episteme/wal/internals';
import { InMemoryCursorStore, InMemoryLog } from '@episteme/wal/testing';
import { ConsumerRegistry, type RegistryOptions } from '../../src/index.js';
import { snapshotDir } from '../../../wal/test/helpers.js';

/** A log under test, as its writer holds it. */
export interface Subject {
  readonly kind: 'journal' | 'memory';
  readonly log: LogReader & Retention;
  /** The journal's directory; undefined in memory. */
  readonly dir: string | undefined;
  /** The same object across `reopen`: what a test keeps beside the log (an in-memory snapshot store) is keyed on it. */
  readonly lineage: object;
  append(payload: Uint8Array): Promise<number>;
  appendBatch(payloads: Uint8Array[]): Promise<number[]>;
  close(): Promise<void>;
  /** The writer's registry: cursors kept with the log (files in a journal's directory), deleting through its Retention. */
  registry(options?: RegistryOptions): ConsumerRegistry;
  /** A registry as a reader in another process builds it: the same cursors, no Retention. */
  readerRegistry(options?: RegistryOptions): Promise<ConsumerRegistry>;
  /** All that a change would show in: a journal's files; a memory log's positions and stored cursors. */
  image(): unknown;
  /** The units retention deletes (segments, chunks), oldest first. */
  units(): string[];
  /** Where a unit starts. */
  baseOf(unit: string): number;
  /**
   * Closes the log and opens it again: records and cursors stay. With
   * `cutLastRecord`, a crash tore the last record and recovery cut it
   * (`truncatedAt` is where).
   */
  reopen(options?: { cutLastRecord?: boolean }): Promise<Subject>;
}

export interface CreateOptions {
  /** Records in the log when it is handed over (default 0). */
  count?: number;
  /** Bytes per payload (default 20). */
  size?: number;
  /** About how many records a unit of retention holds (default 16): a journal's segment, a memory log's chunk. */
  perUnit?: number;
}

export interface LogKind {
  readonly kind: 'journal' | 'memory';
  create(options?: CreateOptions): Promise<Subject>;
}

const closers: Array<() => Promise<unknown>> = [];
const dirs: string[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-contract-'));
  dirs.push(dir);
  return dir;
}

/** `event-<i>-` padded to `size` bytes: records of one size, as the journal-only tests use. */
export function payloads(count: number, size = 20, from = 0): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`event-${from + i}-`.padEnd(size, '.')));
}

/** An async step that resumes in the event loop's poll phase (an fs callback), whatever the log. */
export async function pollPhase(): Promise<void> {
  await stat(tmpdir());
}

/** Segments of 64 bytes per record asked for: 512 and 1024 bytes, the sizes the journal-only tests always used. */
const BYTES_PER_UNIT_RECORD = 64;

class JournalSubject implements Subject {
  readonly kind = 'journal';
  readonly lineage = {};

  constructor(readonly log: Journal, private readonly maxSegmentBytes: number, lineage?: object) {
    if (lineage) this.lineage = lineage;
    closers.push(() => log.close());
  }

  get dir(): string {
    return this.log.dir;
  }

  async append(payload: Uint8Array): Promise<number> {
    return (await this.log.append(payload)).offset;
  }

  async appendBatch(batch: Uint8Array[]): Promise<number[]> {
    return (await this.log.appendBatch(batch)).map((a) => a.offset);
  }

  close(): Promise<void> {
    return this.log.close();
  }

  registry(options: RegistryOptions = {}): ConsumerRegistry {
    return ConsumerRegistry.forJournal(this.log, options);
  }

  async readerRegistry(options: RegistryOptions = {}): Promise<ConsumerRegistry> {
    const reader = await Journal.openForRead({ dir: this.dir });
    closers.push(() => reader.close());
    return ConsumerRegistry.forJournal(reader, options);
  }

  image(): unknown {
    return snapshotDir(this.dir);
  }

  units(): string[] {
    return readdirSync(this.dir).filter((n) => n.endsWith('.wal')).sort();
  }

  baseOf(unit: string): number {
    return Number.parseInt(unit.slice(0, 16), 16);
  }

  async reopen(options: { cutLastRecord?: boolean } = {}): Promise<Subject> {
    // the last record, found before the close (a closed journal reads nothing)
    const last = options.cutLastRecord && this.log.head > 0 ? this.log.readMany(this.log.boundaryAtOrBefore(this.log.head - 1), 1)[0] : undefined;
    const segments = last ? this.log.segmentList() : [];
    await this.log.close();
    if (last) {
      // a torn tail, as a crash leaves it: the last record's header and a few bytes of it, no more
      const seg = segments.filter((s) => s.base <= last.offset).pop()!;
      truncateSync(join(this.dir, seg.name), last.offset - seg.base + HEADER_SIZE + 5);
    }
    const journal = await Journal.open({ dir: this.dir, durability: 'none', maxSegmentBytes: this.maxSegmentBytes });
    return new JournalSubject(journal, this.maxSegmentBytes, this.lineage);
  }
}

class MemorySubject implements Subject {
  readonly kind = 'memory';
  readonly dir = undefined;

  constructor(
    readonly log: InMemoryLog,
    private readonly cursors: CursorStore,
    /** Every payload appended, so that a reopen can rebuild the log. */
    private readonly written: Uint8Array[],
    readonly lineage: object = {},
  ) {
    closers.push(() => log.close());
  }

  async append(payload: Uint8Array): Promise<number> {
    const [at] = await this.appendBatch([payload]);
    return at!;
  }

  async appendBatch(batch: Uint8Array[]): Promise<number[]> {
    const appended = await this.log.appendBatch(batch);
    for (const p of batch) this.written.push(new Uint8Array(p));
    return appended.map((a) => a.offset);
  }

  close(): Promise<void> {
    return this.log.close();
  }

  registry(options: RegistryOptions = {}): ConsumerRegistry {
    return new ConsumerRegistry({ log: this.log, cursors: this.cursors, retention: this.log }, options);
  }

  async readerRegistry(options: RegistryOptions = {}): Promise<ConsumerRegistry> {
    return new ConsumerRegistry({ log: this.log, cursors: this.cursors }, options);
  }

  image(): unknown {
    const { head, earliest } = this.log;
    return { head, earliest, cursors: this.cursors.names().map((n) => this.cursors.read(n)) };
  }

  units(): string[] {
    const { earliest, head, chunkRecords } = this.log;
    const names: string[] = [];
    for (let base = earliest; base < head; base += chunkRecords) names.push(`chunk-${base}`);
    return names;
  }

  baseOf(unit: string): number {
    return Number(unit.slice('chunk-'.length));
  }

  /** A new log of the same records (the same location: it is the same log), retention and cursors carried over. */
  async reopen(options: { cutLastRecord?: boolean } = {}): Promise<Subject> {
    const { earliest, location, chunkRecords } = this.log;
    await this.log.close();
    const kept = options.cutLastRecord ? this.written.slice(0, -1) : this.written;
    const log = new InMemoryLog({ location, chunkRecords });
    if (kept.length > 0) await log.appendBatch(kept);
    log.deleteBelow(earliest);
    if (options.cutLastRecord) log.truncatedAt = log.head;
    return new MemorySubject(log, this.cursors, [...kept], this.lineage);
  }
}

export const journalLog: LogKind = {
  kind: 'journal',
  async create({ count = 0, size = 20, perUnit = 16 } = {}) {
    const maxSegmentBytes = perUnit * BYTES_PER_UNIT_RECORD;
    const subject = new JournalSubject(await Journal.open({ dir: tempDir(), maxSegmentBytes, durability: 'none' }), maxSegmentBytes);
    // single appends in one tick: written together, but split at segment boundaries
    await Promise.all(payloads(count, size).map((p) => subject.append(p)));
    return subject;
  },
};

export const memoryLog: LogKind = {
  kind: 'memory',
  async create({ count = 0, size = 20, perUnit = 16 } = {}) {
    const log = new InMemoryLog({ chunkRecords: perUnit });
    const subject = new MemorySubject(log, log.cursors, []);
    await Promise.all(payloads(count, size).map((p) => subject.append(p)));
    return subject;
  },
};

/** Every implementation the contract suite runs over: `describe.each(LOGS)('... over $kind', ...)`. */
export const LOGS: LogKind[] = [journalLog, memoryLog];

/** `new InMemoryCursorStore()`, re-exported so that a test builds a registry over explicit parts. */
export { InMemoryCursorStore };
