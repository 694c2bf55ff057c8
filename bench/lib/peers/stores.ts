import { Journal, nodeFileIO, type FileIO } from '@episteme/wal';
import { RECORD_OVERHEAD } from '@episteme/wal/internals';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { newLevelDatabase, openSqliteDatabase, type LevelDatabase, type SqliteDatabase } from './drivers.js';
import { GroupCommitQueue } from './groupCommit.js';

/**
 * The stores compared, each doing the same logical work: an append-only
 * sequence of records with sequential ids.
 *
 * - Episteme: a Journal in the directory; the id is the record's offset.
 * - better-sqlite3: `events(id INTEGER PRIMARY KEY, payload BLOB)` in WAL
 *   mode; the id is the rowid SQLite assigns (max + 1).
 * - classic-level: key = the id as 8 bytes big-endian (so keys sort in
 *   append order), value = the payload.
 * - raw: node:fs on one file, each record a 40-byte header (zeros but the
 *   length) and the payload, the on-disk size of an Episteme record; no
 *   checksums. Ahead of the head, 1 MiB of zeros is written at a time, as
 *   Episteme preallocates its active segment, so that a sync overwrites
 *   allocated space instead of growing the file.
 */

export type StoreName = 'episteme' | 'sqlite' | 'level' | 'raw';
export type Workload = 'durable' | 'group' | 'unsynced';

export interface Appender {
  /** One record per commit (group: the commit may be shared with other waiting appends). */
  append(payload: Buffer): void | Promise<unknown>;
  /** raw only: `payloads` as one write and (durable) one fdatasync. */
  appendBatchSync?(payloads: Buffer[]): void;
  close(): Promise<void>;
  /** Commits (syncs, transactions, batches) so far, where the grouping is the store's or the queue's doing. */
  commits?(): number;
}

export interface Contender {
  /** Stable id, for JSON and for ratios. */
  id: string;
  store: StoreName;
  /** What a table row calls it: store and mode. */
  label: string;
  open(dir: string): Promise<Appender>;
}

const SQLITE_FILE = 'events.db';

export function sqlitePath(dir: string): string {
  return join(dir, SQLITE_FILE);
}

export type SqliteSync = 'FULL' | 'NORMAL' | 'OFF';

export function openSqlite(dir: string, sync: SqliteSync): SqliteDatabase {
  const db = openSqliteDatabase(sqlitePath(dir));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  return db;
}

export type Level = LevelDatabase;

export async function openLevel(dir: string): Promise<Level> {
  const db = newLevelDatabase(join(dir, 'level'));
  await db.open();
  return db;
}

/** The id as 8 bytes big-endian: byte order is id order. */
export function levelKey(id: number): Buffer {
  const k = Buffer.allocUnsafe(8);
  k.writeUInt32BE(Math.floor(id / 0x1_0000_0000), 0);
  k.writeUInt32BE(id >>> 0, 4);
  return k;
}

/** The id after the last key (0 for an empty store). */
export async function levelNextId(db: Level): Promise<number> {
  const last = await db.keys({ reverse: true, limit: 1 }).all();
  const k = last[0];
  return k === undefined ? 0 : k.readUInt32BE(0) * 0x1_0000_0000 + k.readUInt32BE(4) + 1;
}

const ZEROS = Buffer.alloc(1024 * 1024);

/** The raw node:fs appender (see the module comment). */
export class RawFile implements Appender {
  private readonly fd: number;
  private pos = 0;
  private allocated = 0;
  private scratch = Buffer.alloc(64 * 1024);
  private syncs = 0;

  constructor(
    path: string,
    private readonly durable: boolean,
  ) {
    this.fd = openSync(path, 'w');
  }

  append(payload: Buffer): void {
    const n = RECORD_OVERHEAD + payload.length;
    const buf = this.buffer(n);
    buf.fill(0, 0, RECORD_OVERHEAD);
    buf.writeUInt32LE(payload.length, 0);
    payload.copy(buf, RECORD_OVERHEAD);
    this.write(buf, n);
  }

  appendBatchSync(payloads: Buffer[]): void {
    let n = 0;
    for (const p of payloads) n += RECORD_OVERHEAD + p.length;
    const buf = this.buffer(n);
    let at = 0;
    for (const p of payloads) {
      buf.fill(0, at, at + RECORD_OVERHEAD);
      buf.writeUInt32LE(p.length, at);
      p.copy(buf, at + RECORD_OVERHEAD);
      at += RECORD_OVERHEAD + p.length;
    }
    this.write(buf, n);
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }

  private buffer(n: number): Buffer {
    if (this.scratch.length < n) this.scratch = Buffer.alloc(Math.max(n, this.scratch.length * 2));
    return this.scratch;
  }

  private write(buf: Buffer, n: number): void {
    if (this.pos + n > this.allocated) {
      const target = Math.max(this.pos + n, this.allocated + ZEROS.length);
      for (let at = Math.max(this.allocated, this.pos + n); at < target; ) at += writeSync(this.fd, ZEROS, 0, Math.min(ZEROS.length, target - at), at);
      this.allocated = target;
    }
    for (let done = 0; done < n; ) done += writeSync(this.fd, buf, done, n - done, this.pos + done);
    this.pos += n;
    if (this.durable) {
      fdatasyncSync(this.fd);
      this.syncs++;
    }
  }

  commits(): number {
    return this.syncs;
  }
}

function episteme(id: string, label: string, options: { durability: 'immediate' | 'none'; groupCommit: boolean }): Contender {
  return {
    id,
    store: 'episteme',
    label,
    async open(dir) {
      // The FileIO seam counts the writer's syncs: records per sync is the group size group commit reached.
      let syncs = 0;
      const io: FileIO = {
        ...nodeFileIO,
        fsyncAsync: (fd) => {
          syncs++;
          return nodeFileIO.fsyncAsync(fd);
        },
      };
      const journal = await Journal.open({ dir: join(dir, 'journal'), durability: options.durability, groupCommit: options.groupCommit, io });
      return {
        append: (p) => journal.append(p),
        close: () => journal.close(),
        commits: () => syncs,
      };
    },
  };
}

function sqliteOneRow(id: string, sync: SqliteSync): Contender {
  return {
    id,
    store: 'sqlite',
    label: `better-sqlite3 WAL, synchronous=${sync}`,
    async open(dir) {
      const db = openSqlite(dir, sync);
      const insert = db.prepare('INSERT INTO events (payload) VALUES (?)');
      return {
        // Autocommit: each statement is its own transaction.
        append: (p) => {
          insert.run(p);
        },
        close: async () => {
          db.close();
        },
      };
    },
  };
}

function sqliteGroup(id: string): Contender {
  return {
    id,
    store: 'sqlite',
    label: 'better-sqlite3 WAL, synchronous=FULL, 1 transaction per group',
    async open(dir) {
      const db = openSqlite(dir, 'FULL');
      const insert = db.prepare('INSERT INTO events (payload) VALUES (?)');
      const insertAll = db.transaction((ps: Buffer[]) => {
        for (const p of ps) insert.run(p);
      });
      const queue = new GroupCommitQueue<Buffer>((ps) => insertAll(ps));
      return {
        append: (p) => queue.enqueue(p),
        close: async () => {
          db.close();
        },
        commits: () => queue.groupSizes.length,
      };
    },
  };
}

function levelOne(id: string, sync: boolean): Contender {
  return {
    id,
    store: 'level',
    label: `classic-level put, sync: ${sync}`,
    async open(dir) {
      const db = await openLevel(dir);
      let next = await levelNextId(db);
      const options = { sync };
      return {
        append: (p) => db.put(levelKey(next++), p, options),
        close: () => db.close(),
      };
    },
  };
}

function levelGroup(id: string): Contender {
  return {
    id,
    store: 'level',
    label: 'classic-level, 1 batch per group, sync: true',
    async open(dir) {
      const db = await openLevel(dir);
      let next = await levelNextId(db);
      const options = { sync: true };
      const queue = new GroupCommitQueue<Buffer>((ps) =>
        db.batch(
          ps.map((p) => ({ type: 'put' as const, key: levelKey(next++), value: p })),
          options,
        ),
      );
      return {
        append: (p) => queue.enqueue(p),
        close: () => db.close(),
        commits: () => queue.groupSizes.length,
      };
    },
  };
}

function raw(id: string, label: string, durable: boolean): Contender {
  return {
    id,
    store: 'raw',
    label,
    async open(dir) {
      return new RawFile(join(dir, 'raw.log'), durable);
    },
  };
}

/** Per workload: Episteme first (the row every ratio is taken against), peers, then the raw limit. */
export const CONTENDERS: Record<Workload, Contender[]> = {
  durable: [
    episteme('episteme', "Episteme, durability 'immediate'", { durability: 'immediate', groupCommit: false }),
    sqliteOneRow('sqlite-full', 'FULL'),
    levelOne('level-sync', true),
    raw('raw', 'raw fs: write + fdatasync per record', true),
  ],
  group: [
    episteme('episteme', "Episteme, 'immediate' + groupCommit", { durability: 'immediate', groupCommit: true }),
    sqliteGroup('sqlite-full-group'),
    levelGroup('level-sync-group'),
    raw('raw', 'raw fs: 64 records per write + fdatasync', true),
  ],
  unsynced: [
    episteme('episteme', "Episteme, durability 'none'", { durability: 'none', groupCommit: false }),
    sqliteOneRow('sqlite-normal', 'NORMAL'),
    sqliteOneRow('sqlite-off', 'OFF'),
    levelOne('level-nosync', false),
    raw('raw', 'raw fs: writeSync per record, no sync', false),
  ],
};
