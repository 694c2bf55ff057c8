import { Journal } from '@episteme/wal';
import { isSegmentName, RECORD_OVERHEAD } from '@episteme/wal/internals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readAllRaw } from '../journal.js';
import { PayloadPool } from './payloads.js';
import { openSqliteDatabase } from './drivers.js';
import { levelKey, levelNextId, openLevel, openSqlite, sqlitePath, type StoreName } from './stores.js';

/**
 * The same records, written in bulk (unsynced, large batches) to each store,
 * for the read and open-time workloads; then the reads and timed opens.
 * Every directory holds one store: `<dir>/journal`, `<dir>/events.db`,
 * `<dir>/level`.
 */

/** Records written per batch or transaction while filling (about 4 MiB of payload). */
function fillBatch(payloadBytes: number): number {
  return Math.max(1, Math.floor((4 * 1024 * 1024) / payloadBytes));
}

/** Records whose Episteme log (40-byte record header + payload) is about `logBytes`. */
export function recordsFor(logBytes: number, payloadBytes: number): number {
  return Math.max(1, Math.floor(logBytes / (RECORD_OVERHEAD + payloadBytes)));
}

export async function fill(store: Exclude<StoreName, 'raw'>, dir: string, pool: PayloadPool, records: number): Promise<void> {
  const batch = fillBatch(pool.size);
  if (store === 'episteme') {
    const journal = await Journal.open({ dir: join(dir, 'journal'), durability: 'none' });
    try {
      for (let i = 0; i < records; ) {
        const n = Math.min(batch, records - i);
        const ps: Buffer[] = [];
        for (let k = 0; k < n; k++) ps.push(pool.at(i + k));
        await journal.appendBatch(ps);
        i += n;
      }
    } finally {
      await journal.close();
    }
  } else if (store === 'sqlite') {
    const db = openSqlite(dir, 'OFF');
    try {
      const insert = db.prepare('INSERT INTO events (payload) VALUES (?)');
      const insertRange = db.transaction((from: number, to: number) => {
        for (let i = from; i < to; i++) insert.run(pool.at(i));
      });
      for (let i = 0; i < records; i += batch) insertRange(i, Math.min(records, i + batch));
    } finally {
      db.close();
    }
  } else {
    const db = await openLevel(dir);
    try {
      for (let i = 0; i < records; ) {
        const n = Math.min(batch, records - i);
        const ops = new Array<{ type: 'put'; key: Buffer; value: Buffer }>(n);
        for (let k = 0; k < n; k++) ops[k] = { type: 'put', key: levelKey(i + k), value: pool.at(i + k) };
        await db.batch(ops, { sync: false });
        i += n;
      }
    } finally {
      await db.close();
    }
  }
}

export interface ReadResult {
  records: number;
  bytes: number;
}

export type ReadMethod = 'episteme-readFrom' | 'episteme-readMany' | 'episteme-readFrom-transient' | 'episteme-readMany-transient' | 'sqlite' | 'level' | 'raw';

/** Reads every record from the start, in order; payload bytes are summed so that nothing is skipped. */
export async function readAll(method: ReadMethod, dir: string): Promise<ReadResult> {
  let records = 0;
  let bytes = 0;
  switch (method) {
    case 'episteme-readFrom':
    case 'episteme-readMany':
    case 'episteme-readFrom-transient':
    case 'episteme-readMany-transient': {
      // transient: records valid until the next step, read into one reused buffer
      const transient = method.endsWith('-transient');
      const journal = await Journal.openForRead({ dir: join(dir, 'journal') });
      try {
        if (method.startsWith('episteme-readFrom')) {
          for await (const r of journal.readFrom(0, { transient })) {
            records++;
            bytes += r.payload.length;
          }
        } else {
          for (let pos = 0; ; ) {
            const batch = journal.readMany(pos, 4096, { transient });
            if (batch.length === 0) break;
            for (const r of batch) bytes += r.payload.length;
            records += batch.length;
            pos = batch[batch.length - 1]!.next;
          }
        }
      } finally {
        await journal.close();
      }
      break;
    }
    case 'sqlite': {
      const db = openSqliteDatabase(sqlitePath(dir), { readonly: true });
      try {
        const rows = db.prepare('SELECT id, payload FROM events ORDER BY id').raw(true);
        for (const row of rows.iterate() as IterableIterator<[number, Buffer]>) {
          records++;
          bytes += row[1].length;
        }
      } finally {
        db.close();
      }
      break;
    }
    case 'level': {
      const db = await openLevel(dir);
      try {
        const it = db.iterator();
        try {
          for (;;) {
            const entries = await it.nextv(1000);
            if (entries.length === 0) break;
            for (const [, value] of entries) bytes += value.length;
            records += entries.length;
          }
        } finally {
          await it.close();
        }
      } finally {
        await db.close();
      }
      break;
    }
    case 'raw': {
      // The floor: the segment files' bytes, read sequentially, not parsed.
      bytes = readAllRaw(journalFiles(dir));
      break;
    }
  }
  return { records, bytes };
}

export function journalFiles(dir: string): string[] {
  const jdir = join(dir, 'journal');
  return readdirSync(jdir)
    .filter(isSegmentName)
    .sort()
    .map((f) => join(jdir, f));
}

export type OpenMethod = 'episteme' | 'episteme-headers' | 'episteme-default' | 'episteme-reader' | 'sqlite' | 'level' | 'raw';

/**
 * Opens a store as a writer would, up to the point where it knows where the
 * next record goes: Episteme's Journal.open (lock, recovery; by default
 * every sealed segment is verified, `episteme-headers` checks only headers
 * and the last segment, `episteme-default` uses the default options: the
 * recovery point for sealed segments, the clean-close mark for the last
 * one; `episteme-reader` a reader in another process, Journal.openForRead,
 * which takes the last segment by the last record its mark names), SQLite's open plus the first query (WAL recovery
 * happens there), LevelDB's open (log replay) plus the last key. `raw` is
 * a sequential read of the Episteme segment files: the floor for a recovery
 * that looks at every byte. Returns ms and the next id (records for raw).
 */
export async function timedOpen(method: OpenMethod, dir: string): Promise<{ ms: number; next: number }> {
  const t0 = performance.now();
  switch (method) {
    case 'episteme':
    case 'episteme-headers':
    case 'episteme-default': {
      const scanSealedOnOpen = method === 'episteme' ? true : method === 'episteme-headers' ? false : 'unverified';
      const journal = await Journal.open({ dir: join(dir, 'journal'), scanSealedOnOpen });
      const ms = performance.now() - t0;
      const next = journal.head;
      await journal.close();
      return { ms, next };
    }
    case 'episteme-reader': {
      const reader = await Journal.openForRead({ dir: join(dir, 'journal') });
      const ms = performance.now() - t0;
      const next = reader.head;
      await reader.close();
      return { ms, next };
    }
    case 'sqlite': {
      const db = openSqliteDatabase(sqlitePath(dir));
      db.pragma('journal_mode = WAL');
      const row = db.prepare('SELECT max(id) AS m FROM events').get() as { m: number | null };
      const ms = performance.now() - t0;
      db.close();
      return { ms, next: (row.m ?? 0) };
    }
    case 'level': {
      const db = await openLevel(dir);
      const next = await levelNextId(db);
      const ms = performance.now() - t0;
      await db.close();
      return { ms, next };
    }
    case 'raw': {
      const bytes = readAllRaw(journalFiles(dir));
      return { ms: performance.now() - t0, next: bytes };
    }
  }
}
