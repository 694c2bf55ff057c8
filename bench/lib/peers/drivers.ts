import { createRequire } from 'node:module';
import { join } from 'node:path';
import { peersDir } from './install.js';

/**
 * better-sqlite3 and classic-level, loaded from bench/peers/node_modules
 * (install.ts), where the repository's install never puts them. They are
 * required by path on first use, not imported: a bare import would resolve
 * against the root node_modules, and the root type-check would need their
 * type packages there. The types below are the few parts of their APIs the
 * bench calls, written out for that reason.
 */

export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  /** With true, rows come as arrays of column values instead of objects. */
  raw(toggle: boolean): SqliteStatement;
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

export interface SqliteDatabase {
  pragma(source: string): unknown;
  exec(source: string): SqliteDatabase;
  prepare(source: string): SqliteStatement;
  /** Wraps `fn` in BEGIN ... COMMIT (ROLLBACK if it throws). */
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}

type SqliteConstructor = new (filename: string, options?: { readonly?: boolean }) => SqliteDatabase;

/** classic-level with Buffer keys and values (keyEncoding and valueEncoding 'buffer'). */
export interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
  put(key: Buffer, value: Buffer, options?: { sync?: boolean }): Promise<void>;
  batch(ops: Array<{ type: 'put'; key: Buffer; value: Buffer }>, options?: { sync?: boolean }): Promise<void>;
  keys(options: { reverse?: boolean; limit?: number }): { all(): Promise<Buffer[]> };
  iterator(): { nextv(size: number): Promise<Array<[Buffer, Buffer]>>; close(): Promise<void> };
}

type LevelConstructor = new (location: string, options: { keyEncoding: 'buffer'; valueEncoding: 'buffer' }) => LevelDatabase;

let required: ReturnType<typeof createRequire> | undefined;

function requirePeer<T>(name: string): T {
  required ??= createRequire(join(peersDir(), 'package.json'));
  try {
    return required(name) as T;
  } catch (err) {
    throw new Error(`${name} does not load from ${peersDir()}: run \`npm ci --prefix bench/peers\` (the peers suite does so itself outside smoke mode). ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

export function openSqliteDatabase(filename: string, options?: { readonly?: boolean }): SqliteDatabase {
  const Database = requirePeer<SqliteConstructor>('better-sqlite3');
  return new Database(filename, options);
}

export function newLevelDatabase(location: string): LevelDatabase {
  const { ClassicLevel } = requirePeer<{ ClassicLevel: LevelConstructor }>('classic-level');
  return new ClassicLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
}
