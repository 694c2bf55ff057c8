import type { AppendResult, LocalEventStore } from '@episteme/store';
import { checkStreams } from '@episteme/store/internals';
import { Journal, type FileIO } from '@episteme/wal';
import type { Figures } from '../figures.js';
import { describeError } from '../files.js';
import { parseEventId, type CommitSpec, type StreamLedger } from './model.js';

export interface StreamCheckContext {
  store: LocalEventStore;
  /** For a second, read-only look at the log (checkStreams folds it without the store). */
  dir: string;
  io: FileIO | undefined;
  ledger: StreamLedger;
  figures: Figures;
  powerLoss: boolean;
  /** Prefixes each violation (session, cycle). */
  where: string;
  violation: (message: string) => void;
}

interface FoldedCommit {
  stream: string;
  first: number;
  count: number;
  /** Events of the tag seen, in log order. */
  ks: number[];
}

/**
 * The stream invariants on a store just reopened after a crash or power
 * loss, judged against the independent record:
 *  1. every stream's positions are dense from 1 in the global order;
 *  2. every commit in the log is whole: its events are adjacent in the log,
 *     in one stream, k = 1..count at consecutive positions (none partly
 *     visible), and no commit appears twice (a retry appended again);
 *  3. every acknowledged commit is there at its acknowledged versions (one
 *     acknowledged unsynced may be lost to a power loss, counted);
 *  4. a commit nobody acknowledged is one whose outcome its writer never saw;
 *  5. the store's index (readStream, streamCount) equals the fold of the
 *     log, and so does checkStreams on a separate read-only handle.
 */
export async function checkStreamStore(c: StreamCheckContext): Promise<void> {
  const { figures, ledger } = c;
  const v = (m: string): void => c.violation(`${c.where}: ${m}`);
  figures.count('streams.checks');
  const commits = new Map<string, FoldedCommit>();
  const folded = new Map<string, string[]>(); // stream -> event ids in position order
  let open: FoldedCommit | undefined; // the commit whose events are being read
  let events = 0;
  for await (const e of c.store.readAll(0)) {
    events++;
    const ids = folded.get(e.stream) ?? [];
    if (e.streamPosition !== ids.length + 1) v(`stream ${e.stream}: event ${e.id} at position ${e.streamPosition}, after version ${ids.length} (not dense)`);
    ids.push(e.id);
    folded.set(e.stream, ids);
    const p = parseEventId(e.id);
    if (!p) {
      v(`an event id the writers never use: ${JSON.stringify(e.id)}`);
      continue;
    }
    if (p.k === 1) {
      if (open && open.ks.length !== open.count) v(`commit ${[...commits].find(([, x]) => x === open)?.[0]} partly visible: ${open.ks.length} of ${open.count} events`);
      if (commits.has(p.tag)) v(`commit ${p.tag} appears twice in the log (a retry was appended again)`);
      open = { stream: e.stream, first: e.streamPosition, count: p.count, ks: [1] };
      commits.set(p.tag, open);
    } else {
      const cur = commits.get(p.tag);
      if (!cur || cur !== open || cur.stream !== e.stream || p.k !== cur.ks.length + 1 || e.streamPosition !== cur.first + p.k - 1) {
        v(`event ${e.id} of stream ${e.stream} at position ${e.streamPosition} does not continue its commit (torn or interleaved)`);
      } else cur.ks.push(p.k);
    }
  }
  if (open && open.ks.length !== open.count) v(`the last commit of the log is partly visible: ${open.ks.length} of ${open.count} events`);
  figures.count('streams.eventsFolded', events);

  for (const [tag, a] of ledger.acked) {
    const got = commits.get(tag);
    if (!got) {
      if (c.powerLoss && !a.durable) {
        figures.count('streams.ackedUnsyncedLost');
        ledger.acked.delete(tag);
      } else v(`acknowledged commit ${tag} (${a.stream} ${a.first}..${a.first + a.count - 1}${a.durable ? ', durable' : ''}) is missing`);
      continue;
    }
    if (got.stream !== a.stream || got.first !== a.first || got.count !== a.count) {
      v(`acknowledged commit ${tag} at ${a.stream} ${a.first}+${a.count} is in the log at ${got.stream} ${got.first}+${got.count}`);
    } else figures.count('streams.commitsVerified');
  }
  for (const [tag, got] of commits) {
    if (ledger.acked.has(tag)) continue;
    if (ledger.pending.has(tag)) figures.count('streams.unackedCommitsFoundWhole');
    else v(`commit ${tag} (${got.stream} ${got.first}+${got.count}) is in the log but was neither acknowledged nor in flight`);
  }
  ledger.present = new Set(commits.keys());

  // the index after reopen against the fold
  if (c.store.streamCount !== folded.size) v(`the index knows ${c.store.streamCount} streams, the log folds to ${folded.size}`);
  for (const [stream, ids] of folded) {
    const r = await c.store.readStream(stream);
    const got = r.events.map((e) => e.id);
    if (r.currentVersion !== ids.length || got.length !== ids.length || got.some((id, i) => id !== ids[i])) {
      v(`stream ${stream}: the index says version ${r.currentVersion} with ${got.length} events, the log folds to ${ids.length}`);
    }
  }
  try {
    const reader = await Journal.openForRead({ dir: c.dir, ...(c.io ? { io: c.io } : {}) });
    try {
      const s = await checkStreams(reader);
      for (const m of s.violations) v(`checkStreams: ${m}`);
      if (s.versions.size !== folded.size || [...folded].some(([k, ids]) => s.versions.get(k) !== ids.length)) v('checkStreams (a read-only fold of the log) disagrees with readAll');
    } finally {
      await reader.close();
    }
  } catch (err) {
    v(`checkStreams on a read-only handle failed: ${describeError(err)}`);
  }
}

/**
 * Judges one resolved append against the record, then records it.
 * `crossCycle`: a retry of an attempt from before the last crash, whose
 * presence in the log the last check established.
 */
export function judgeAck(ledger: StreamLedger, figures: Figures, spec: CommitSpec, result: AppendResult, retry: boolean, crossCycle: boolean, durable: boolean, v: (m: string) => void): void {
  const first = result.nextExpectedVersion - spec.count + 1;
  const known = ledger.acked.get(spec.tag);
  figures.count(retry ? 'streams.retries' : 'streams.commitsAcked');
  if (result.alreadyAppended) figures.count('streams.alreadyAppended');
  if (known) {
    if (!result.alreadyAppended) v(`retry of acknowledged commit ${spec.tag} was appended again (at ${first})`);
    else if (known.first !== first || known.stream !== spec.stream) v(`retry of ${spec.tag} answered version ${result.nextExpectedVersion}, the first attempt ${known.first + known.count - 1}`);
  } else if (crossCycle) {
    const wasThere = ledger.present.has(spec.tag);
    if (wasThere && !result.alreadyAppended) v(`retry of ${spec.tag}, which recovery kept in the log, was appended again`);
    if (!wasThere && result.alreadyAppended) v(`retry of ${spec.tag} answered alreadyAppended, but the log did not hold it`);
  } else if (!retry && result.alreadyAppended) {
    v(`a first attempt (${spec.tag}) answered alreadyAppended`);
  }
  if (!result.alreadyAppended) {
    if (typeof spec.expected === 'number' && first !== spec.expected + 1) v(`${spec.tag} expected version ${spec.expected} but was appended at ${first}`);
    if (spec.expected === 'no_stream' && first !== 1) v(`${spec.tag} expected no_stream but was appended at ${first}`);
    if (result.createdStream !== (first === 1)) v(`${spec.tag} at ${first}: createdStream ${result.createdStream}`);
  }
  ledger.ack(spec, first, durable);
}
