import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { StreamConfig } from '@nats-io/jetstream';
import { jetStreamHandles } from '../src/handles.js';
import { retryTransient } from '../src/transient.js';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { Journal, type JournalReader } from '@episteme/wal';
import { streamMessages } from '../src/streamMessages.js';
import { leaderStreamInfo } from '../src/streamLayout.js';
import { NEXT_HEADER, OFFSET_HEADER } from '../src/messageHeaders.js';
import { natsSkipReason, TestCluster } from '../src/testing/index.js';

/** Why this machine cannot run the cluster tests (undefined: it can; under CI a missing server is a failure, not a skip). */
export const skipReason = natsSkipReason();
if (skipReason !== undefined) console.warn(`skipping the NATS tests: ${skipReason}`);

/** Milliseconds for a test on a cluster: the machine is loaded, elections take seconds. */
export const CLUSTER_TEST_TIMEOUT = 240_000;

/**
 * One 3-node cluster for the tests of a file, started before them and
 * stopped by pid after them (also when one fails), with a client connection.
 */
export function useCluster(options: {
  nodes?: number;
  extraConfig?: string;
  auth?: { user: string; pass: string };
  /** What the helper's own connection presents to a TLS cluster. */
  tls?: { caFile: string; certFile?: string; keyFile?: string };
  /** The `.creds` file the helper's own connection uses (an operator-mode cluster). */
  credsFile?: string;
} = {}): { cluster: () => TestCluster; nc: () => NatsConnection } {
  let cluster: TestCluster | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    if (skipReason !== undefined) return;
    const { auth, tls, credsFile, ...clusterOptions } = options;
    cluster = await TestCluster.start({ ...clusterOptions, readyTimeoutMs: 60_000 });
    nc = await connect({
      servers: cluster.servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(auth ?? {}),
      ...(tls ? { tls } : {}),
      ...(credsFile ? { authenticator: credsAuthenticator(readFileSync(credsFile)) } : {}),
    });
  }, 120_000);
  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    await cluster?.stop();
  }, 60_000);
  return { cluster: () => cluster!, nc: () => nc! };
}

const made: string[] = [];
const open: Array<Journal | JournalReader> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => undefined);
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-nats-test-'));
  made.push(dir);
  return dir;
}

export function track<J extends Journal | JournalReader>(journal: J): J {
  open.push(journal);
  return journal;
}

/** A deterministic payload of 20-400 bytes for record `i` (a seed tells journals apart). */
export function payloadOf(i: number, seed = 0): Buffer {
  const size = 20 + ((i * 7919 + seed * 104729) % 381);
  const b = Buffer.alloc(size, (i + seed) & 0xff);
  b.write(`r${seed}-${i}:`);
  return b;
}

/** A journal of `count` records (payloadOf), written in batches, left open (closed after the test). */
export async function journalWith(count: number, options: { dir?: string; seed?: number; maxSegmentBytes?: number } = {}): Promise<Journal> {
  const journal = track(await Journal.open({ dir: options.dir ?? tempDir(), durability: 'none', ...(options.maxSegmentBytes ? { maxSegmentBytes: options.maxSegmentBytes } : {}) }));
  for (let i = 0; i < count; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) => payloadOf(i + k, options.seed ?? 0));
    await journal.appendBatch(batch);
  }
  return journal;
}

/** A journal of `count` records, closed, opened read-only as a relay in another process would (no background writes). */
export async function readerOf(count: number, options: { seed?: number } = {}): Promise<JournalReader> {
  const writer = await journalWith(count, options);
  await writer.close();
  return track(await Journal.openForRead({ dir: writer.dir }));
}

/** Adds a stream, retrying while the young cluster times out (the first R3 stream of a loaded machine can). */
export async function addStream(nc: NatsConnection, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const { jsm } = await jetStreamHandles(nc);
  await retryTransient(
    async () => {
      try {
        await jsm.streams.add(config);
      } catch (error) {
        if (!/already in use/i.test((error as Error).message)) throw error;
      }
    },
    { what: `adding stream ${config.name}` },
  );
}

export async function appendRecords(journal: Journal, from: number, count: number, seed = 0): Promise<void> {
  for (let i = from; i < from + count; i += 1000) {
    await journal.appendBatch(Array.from({ length: Math.min(1000, from + count - i) }, (_, k) => payloadOf(i + k, seed)));
  }
}

export interface StoredRecord {
  seq: number;
  offset: number;
  next: number;
  payload: Buffer;
}

/** Every message of a stream, in sequence order, with the positions in its headers. */
export async function streamContents(nc: NatsConnection, stream: string): Promise<StoredRecord[]> {
  const handles = await jetStreamHandles(nc);
  const info = await retryTransient(() => leaderStreamInfo(handles.jsm, stream), { what: `stream ${stream}` });
  const out: StoredRecord[] = [];
  if (info.state.messages === 0) return out;
  for await (const msg of streamMessages(handles, { stream, from: info.state.first_seq })) {
    out.push({ seq: msg.seq, offset: Number(msg.headers?.get(OFFSET_HEADER)), next: Number(msg.headers?.get(NEXT_HEADER)), payload: Buffer.from(msg.data) });
  }
  return out;
}

/**
 * Checks that `stored` is exactly the journal's records from `from`, in
 * order, byte for byte, each once; returns a description of the first
 * difference, or undefined.
 */
export async function differenceFromJournal(journal: Journal | JournalReader, stored: StoredRecord[], from = journal.earliest): Promise<string | undefined> {
  let i = 0;
  let expectedSeq = stored[0]?.seq ?? 1;
  for await (const record of journal.readFrom(from)) {
    const s = stored[i];
    if (s === undefined) return `the stream ends after ${i} records; the journal has more from offset ${record.offset}`;
    if (s.seq !== expectedSeq) return `sequence ${expectedSeq} missing (found ${s.seq})`;
    if (s.offset !== record.offset || s.next !== record.next) return `message ${s.seq} carries offset ${s.offset}..${s.next}, the journal's record is ${record.offset}..${record.next}`;
    if (!s.payload.equals(Buffer.from(record.payload))) return `message ${s.seq} (offset ${s.offset}) differs from the journal's record`;
    i++;
    expectedSeq++;
  }
  if (i !== stored.length) return `the stream holds ${stored.length - i} messages beyond the journal's head`;
  return undefined;
}

/** What `p` rejects with; fails the test when it resolves. */
export async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string } & Record<string, unknown>> {
  try {
    await p;
  } catch (error) {
    return error as { code: string; message: string } & Record<string, unknown>;
  }
  throw new Error('expected a refusal');
}
