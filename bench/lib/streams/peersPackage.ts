import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installPeers, PEERS_DIR } from '../peers/install.js';
import type { Mode } from '../types.js';

/**
 * The peers of the streams suite live in bench/peers, a package of their
 * own (its own package-lock.json), so that the repository's `npm ci` never
 * downloads Emmett, pg and a from-source sqlite3 build. It is installed on
 * the first run of a suite that needs it (../peers/install.ts), and loaded
 * by path through bench/peers/index.js, whose bare imports resolve in
 * bench/peers.
 *
 * The types below are the few parts of Emmett's API the suite calls,
 * written out here: the packages' own .d.ts files are not installed when
 * the main tree is type-checked.
 */
export type Version = bigint;

export interface EmmettEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface EmmettRecordedEvent extends EmmettEvent {
  metadata: { streamPosition: bigint; globalPosition: bigint };
}

export interface EmmettEventStore {
  appendToStream(stream: string, events: EmmettEvent[], options?: { expectedStreamVersion?: Version }): Promise<{ nextExpectedStreamVersion: Version }>;
  readStream(stream: string): Promise<{ events: EmmettRecordedEvent[]; currentStreamVersion: Version }>;
  aggregateStream<S>(stream: string, options: { initialState: () => S; evolve: (s: S, e: EmmettRecordedEvent) => S }): Promise<{ state: S; currentStreamVersion: Version }>;
}

export interface MessagesBatch {
  messages: EmmettRecordedEvent[];
  currentGlobalPosition: bigint;
}
type BatchRange = { from: bigint; batchSize: number } | { after: bigint; batchSize: number };

export interface SQLiteConnection {
  command(sql: string, params?: unknown[]): Promise<unknown>;
  querySingle<T>(sql: string, params?: unknown[]): Promise<T | null>;
  close(): void;
}

export interface DumboPool {
  execute: unknown;
  close(): Promise<void>;
}

export interface PeersModule {
  getSQLiteEventStore(options: { fileName: string; connectionOptions?: { singleton: true; connection: SQLiteConnection } }): EmmettEventStore;
  sqliteConnection(options: { fileName: string }): SQLiteConnection;
  readSQLiteMessagesBatch(connection: SQLiteConnection, options: BatchRange): Promise<MessagesBatch>;
  getPostgreSQLEventStore(connectionString: string, options?: { connectionOptions?: { dumbo: DumboPool } }): EmmettEventStore & { close(): Promise<void> };
  readPostgreSQLMessagesBatch(execute: unknown, options: BatchRange): Promise<MessagesBatch>;
  dumbo(options: { connectionString: string }): DumboPool;
}

/** Versions of the installed peers, for the table notes (read from their package.json: their exports maps hide it from require). */
export function peerVersions(): string {
  const v = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return `emmett-sqlite ${v('@event-driven-io/emmett-sqlite')}, emmett-postgresql ${v('@event-driven-io/emmett-postgresql')}, sqlite3 ${v('sqlite3')}`;
}

/**
 * Installs bench/peers when it is missing or stale (not in smoke mode,
 * where the peers are skipped instead so that CI needs nothing past the
 * main install), then loads it. A string is why the peers are skipped.
 */
export async function loadPeers(mode: Mode, log: (m: string) => void): Promise<PeersModule | string> {
  const notInstalled = installPeers(mode, log);
  if (notInstalled !== undefined) return `the Emmett columns are skipped: ${notInstalled}`;
  try {
    return (await import(pathToFileURL(join(PEERS_DIR, 'index.js')).href)) as PeersModule;
  } catch (err) {
    // a half-made install (say sqlite3's native build failed) skips the peers rather than the suite
    return `bench/peers does not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): the Emmett columns are skipped; \`rm -rf bench/peers/node_modules\` makes the next run install it again`;
  }
}
