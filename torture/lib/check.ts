import { join } from 'node:path';
import { ConsumerRegistry, type CursorClampEvent } from '@episteme/consumers';
import { FileSnapshotStore, InMemorySnapshotStore, ProjectionEngine, ProjectionErrorCodes } from '@episteme/projections';
import { isEpistemeError, verifyJournal, type FileIO, type Journal } from '@episteme/wal';
import { HEADER_SIZE, QUARANTINE_DIR, RECORD_OVERHEAD, segmentName } from '@episteme/wal/internals';
import type { Figures } from './figures.js';
import { describeError, digest, equalBytes, isZero, listDir, readAll, type PreState } from './files.js';
import type { Ledger } from './ledger.js';
import { parsePayload } from './payload.js';
import { applyTally, canonicalHash, initialTally, TALLY_CONSUMER, TALLY_NAME, tallyProjection, type TallyState } from './projection.js';

export interface CheckContext {
  io: FileIO;
  dir: string;
  /** The journal, just reopened by a writer (recovery ran). */
  journal: Journal;
  pre: PreState;
  ledger: Ledger;
  figures: Figures;
  /** How to replay the session (printed with each violation). */
  replay: string;
  session: number;
  /** A (simulated) power loss came before this open: unsynced acknowledgements may be gone. */
  powerLoss: boolean;
  /** Check what read-only readers in other processes saw (no write was rolled back this cycle). */
  readerSeen: boolean;
  /** The session runs the tally projection. */
  projection: boolean;
}

export interface CheckResult {
  /** The registry on the reopened journal (its first, so the one that clamped). */
  registry: ConsumerRegistry;
  /** Warnings the registry and the engine logged. */
  warnings: string[];
  /** The projection cannot be rebuilt any more (allowed case, see below): the session should end. */
  projectionDead: boolean;
}

interface LogRecord {
  offset: number;
  next: number;
  payload: string;
}

/**
 * Every invariant after a crash, on a journal a writer has just reopened:
 * quarantine files equal the bytes cut, the log is a clean dense prefix,
 * every acknowledged record is there, cursors are valid and not behind their
 * acknowledged commits (unless a reported clamp says why), cleanup deleted
 * nothing a consumer still needed, the projection equals a fold from 0.
 */
export async function checkRecovered(ctx: CheckContext): Promise<CheckResult> {
  const { journal, figures, ledger } = ctx;
  const v = (message: string): void => figures.violation('crash', ctx.replay, `session ${ctx.session}: ${message}`);
  figures.count('check.total');
  const head = journal.head;
  const earliest = journal.earliest;
  const report = journal.recovery!;
  const cutOffset = report.cuts[0]?.offset;

  checkQuarantine(ctx, v);

  const verified = verifyJournal(ctx.dir, { io: ctx.io });
  if (!verified.ok) v(`verifyJournal after recovery: ${verified.problems.map((p) => p.message).join('; ')}`);
  if (verified.head !== head || verified.earliest !== earliest) {
    v(`verifyJournal sees [${verified.earliest}, ${verified.head}), the journal [${earliest}, ${head})`);
  }

  const log = readWholeLog(journal, v);
  const logMap = new Map(log.map((r) => [r.offset, r]));
  const boundaries = new Set(log.map((r) => r.offset));
  boundaries.add(head);

  reconcileLedger(ctx, log, logMap, v);

  if (ctx.readerSeen) {
    for (const [offset, seen] of ledger.readerSeen) {
      if (offset < earliest) continue; // cleanup deleted it since: judged by the cursor rule
      const r = logMap.get(offset);
      if (!r || digest(r.payload) !== seen) {
        v(`a read-only reader in another process saw a record at offset ${offset} (digest ${seen}) that is ${r ? 'different' : 'gone'} after a SIGKILL-only crash`);
      }
    }
  }

  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), info: () => undefined };
  const registry = ConsumerRegistry.forJournal(journal, { io: ctx.io, logger });
  checkCursors(ctx, registry, boundaries, cutOffset, v);

  let projectionDead = false;
  if (ctx.projection) projectionDead = await checkProjection(ctx, registry, logger, cutOffset, v);
  ledger.settle(ctx.powerLoss);
  return { registry, warnings, projectionDead };
}

function checkQuarantine(ctx: CheckContext, v: (m: string) => void): void {
  const { io, dir, pre, figures } = ctx;
  const report = ctx.journal.recovery!;
  const reported = new Set<string>();
  const firstSegment = [...pre.segments.keys()][0];
  const cutSegments = new Set<string>();
  for (const cut of report.cuts) {
    figures.count('quarantine.cuts');
    figures.count('quarantine.bytes', cut.bytes);
    figures.count(`quarantine.reason.${cut.reason}`);
    if (cut.wellFormedRecordsInCut > 0) figures.count('observe.wellFormedRecordsInsideCuts', cut.wellFormedRecordsInCut);
    cutSegments.add(cut.segment);
    const name = cut.quarantine.startsWith(`${QUARANTINE_DIR}/`) ? cut.quarantine.slice(QUARANTINE_DIR.length + 1) : cut.quarantine;
    reported.add(name);
    if (pre.quarantine.has(name)) v(`quarantine file ${cut.quarantine} existed before this recovery`);
    const seg = pre.segments.get(cut.segment);
    if (!seg) {
      v(`recovery cut ${cut.segment}, which did not exist before it ran`);
      continue;
    }
    if (!seg.bytes) {
      v(`recovery cut ${cut.segment} at ${cut.position} (${cut.reason}): not the last segment, yet no repair was asked for`);
      continue;
    }
    if (cut.position + cut.bytes !== seg.bytes.length) {
      v(`cut of ${cut.segment} at ${cut.position} claims ${cut.bytes} bytes; the file held ${seg.bytes.length - cut.position} from there`);
    }
    const expected = seg.bytes.subarray(cut.position, cut.position + cut.bytes);
    const q = readAll(io, join(dir, cut.quarantine));
    if (!q) {
      v(`quarantine file ${cut.quarantine} of the cut of ${cut.segment} does not exist`);
    } else if (!(equalBytes(q, expected) || (q.length < expected.length && equalBytes(q, expected.subarray(0, q.length)) && isZero(expected.subarray(q.length))))) {
      v(`quarantine file ${cut.quarantine} (${q.length} bytes) differs from the ${expected.length} bytes cut from ${cut.segment} at ${cut.position}`);
    }
    const after = readAll(io, join(dir, cut.segment));
    if (cut.position > 0) {
      if (!after || after.length !== cut.position || !equalBytes(after, seg.bytes.subarray(0, cut.position))) {
        v(`${cut.segment} after its cut at ${cut.position} is ${after ? `${after.length} bytes, not the ${cut.position} bytes before the cut` : 'gone'}`);
      }
    } else if (after && !(cut.segment === firstSegment && after.length === HEADER_SIZE)) {
      v(`${cut.segment} was quarantined whole but is still there (${after.length} bytes)`);
    }
  }
  // nothing else moved: no unreported quarantine file, no other segment changed
  const now = listDir(io, join(dir, QUARANTINE_DIR));
  for (const name of now) {
    if (!pre.quarantine.has(name) && !reported.has(name)) v(`quarantine file ${name} appeared without a reported cut`);
  }
  for (const [name, size] of pre.quarantine) {
    const st = io.stat(join(dir, QUARANTINE_DIR, name));
    if (!st || st.size !== size) v(`quarantine file ${name} changed or vanished during recovery`);
  }
  for (const [name, seg] of pre.segments) {
    if (cutSegments.has(name)) continue;
    const after = seg.bytes ? readAll(io, join(dir, name)) : undefined;
    const size = seg.bytes ? after?.length : io.stat(join(dir, name))?.size;
    if (size === undefined) {
      v(`segment ${name} disappeared during recovery without a cut`);
    } else if (seg.bytes && after && !equalBytes(after, seg.bytes)) {
      // recovery may trim preallocated zeros at the end of the last segment, nothing else
      const trimmedZeros = after.length < seg.bytes.length && equalBytes(after, seg.bytes.subarray(0, after.length)) && isZero(seg.bytes.subarray(after.length));
      if (!trimmedZeros) v(`segment ${name} changed during recovery without a cut`);
    } else if (!seg.bytes && size !== seg.size) {
      v(`sealed segment ${name} changed size during recovery (${seg.size} -> ${size})`);
    }
  }
  const segmentsNow = listDir(io, dir).filter((n) => /^[0-9a-f]{16}\.wal$/.test(n));
  for (const name of segmentsNow) {
    if (!pre.segments.has(name) && name !== segmentName(ctx.journal.head)) v(`segment ${name} appeared during recovery`);
  }
}

function readWholeLog(journal: Journal, v: (m: string) => void): LogRecord[] {
  const out: LogRecord[] = [];
  let pos = journal.earliest;
  for (;;) {
    const batch = journal.readMany(pos, 4096);
    if (batch.length === 0) break;
    for (const r of batch) {
      if (r.offset !== pos) v(`log not dense: record at ${r.offset}, expected ${pos}`);
      out.push({ offset: r.offset, next: r.next, payload: Buffer.from(r.payload).toString('utf8') });
      pos = r.next;
    }
  }
  if (pos !== journal.head) v(`reading the log stopped at ${pos}, the head is ${journal.head}`);
  return out;
}

function reconcileLedger(ctx: CheckContext, log: LogRecord[], logMap: Map<number, LogRecord>, v: (m: string) => void): void {
  const { ledger, figures, journal } = ctx;
  const { earliest, head } = journal;
  let verified = 0;
  for (const [offset, entry] of [...ledger.records]) {
    if (offset < earliest) continue; // deleted by cleanup: judged by the cursor rule
    const r = logMap.get(offset);
    if (r && r.payload === entry.payload) {
      verified++;
      continue;
    }
    // without a power loss even an unsynced acknowledgement is in the OS and must be there
    const mustSurvive = entry.durable || !ctx.powerLoss;
    ledger.records.delete(offset);
    if (mustSurvive) {
      v(
        `acknowledged record at offset ${offset} is ${r ? `replaced by ${r.payload.slice(0, 60)}` : 'missing'} after recovery ` +
          `(head ${head}, earliest ${earliest}, ${entry.durable ? 'durable when acknowledged' : 'unsynced, no power loss'}): ${entry.payload.slice(0, 60)}`,
      );
    } else {
      figures.count('records.unsyncedLost');
    }
  }
  figures.count('records.verified', verified);
  // records the ledger does not know: writes in flight at the crash (or rolled back, or duplicated)
  for (const r of log) {
    if (ledger.records.has(r.offset)) continue;
    const id = parsePayload(r.payload);
    if (!id || id.s !== ctx.session) {
      v(`record at ${r.offset} is no payload this session wrote: ${r.payload.slice(0, 80)}`);
    } else {
      const status = ledger.status.get(r.payload);
      if (status === 'acked') v(`payload acknowledged at another offset is in the log again at ${r.offset}: ${r.payload.slice(0, 60)}`);
      else if (status === 'rejected-write') {
        if (ctx.powerLoss) figures.count('observe.rolledBackWriteBackAfterPowerLoss');
        else v(`an append rejected with WAL_WRITE_FAILED (rolled back) is in the log at ${r.offset} after a crash without power loss`);
      } else if (status === 'rejected-failed') figures.count('observe.batchOfFailedSyncKept');
      else if (status === 'rejected-other') v(`an append rejected before it was written is in the log at ${r.offset}: ${r.payload.slice(0, 60)}`);
      else {
        figures.count('records.unackedSurvivors');
        if (process.env.TORTURE_DEBUG === '1') process.stdout.write(`  survivor at ${r.offset}: ${r.payload.slice(0, 50)}\n`);
      }
    }
    ledger.records.set(r.offset, { payload: r.payload, durable: false });
    ledger.status.set(r.payload, 'acked');
  }
}

function checkCursors(ctx: CheckContext, registry: ConsumerRegistry, boundaries: Set<number>, cutOffset: number | undefined, v: (m: string) => void): void {
  const { journal, ledger, pre, figures } = ctx;
  const { earliest, head } = journal;
  const events = registry.clamped.slice();
  const names = registry.store.names();
  let lowest = Number.POSITIVE_INFINITY;
  for (const [name, stored] of pre.cursors) {
    if (stored instanceof Error) v(`cursor file of ${name} is damaged after the crash: ${stored.message}`);
    else lowest = Math.min(lowest, stored);
    if (!names.includes(name)) v(`cursor of ${name} disappeared during recovery`);
  }
  if (lowest < earliest) v(`the earliest retained offset ${earliest} is above the lowest cursor ${lowest}: a segment with records a consumer still needed was deleted`);
  const sortedBoundaries = [...boundaries].sort((a, b) => a - b);
  for (const name of names) {
    let cursor: number;
    try {
      cursor = registry.get(name).cursor;
    } catch (err) {
      v(`cursor of ${name} cannot be read after recovery: ${describeError(err)}`);
      continue;
    }
    if (cursor < earliest || cursor > head) v(`cursor of ${name} is ${cursor}, outside [${earliest}, ${head}]`);
    else if (!boundaries.has(cursor)) v(`cursor of ${name} is ${cursor}, not a record boundary`);
    const stored = pre.cursors.get(name);
    const mine = events.filter((e) => e.name === name);
    for (const e of mine) {
      figures.count(`clamp.${e.reason}`);
      if (!clampJustified(e, stored, cutOffset, earliest, head, boundaries, sortedBoundaries)) v(`cursor clamp without a cause: ${e.message}`);
    }
    if (typeof stored === 'number' && cursor !== stored && mine.length === 0) v(`cursor of ${name} moved from ${stored} to ${cursor} at open, no clamp reported`);
    const ack = ledger.cursorAcks.get(name);
    if (ack !== undefined && typeof stored === 'number' && stored < ack) {
      v(`cursor file of ${name} holds ${stored}, below its acknowledged commit ${ack}: a durable cursor commit was lost`);
    } else if (ack !== undefined && cursor < ack) {
      const logShortened = ack > head || (cutOffset !== undefined && ack > cutOffset) || !boundaries.has(ack);
      if (!logShortened || mine.length === 0) v(`cursor of ${name} is ${cursor}, behind its acknowledged commit ${ack}, and the log was not cut below it`);
      else figures.count('observe.cursorClampedBelowAckedCommit');
    }
    const handled = ledger.handledUpTo.get(name);
    if (handled !== undefined && typeof stored === 'number' && stored > handled && !(name === TALLY_CONSUMER)) {
      v(`cursor of ${name} (${stored}) is past records its handler never finished (handled up to ${handled})`);
    }
    if (name === TALLY_CONSUMER && typeof stored === 'number' && typeof pre.snapshot === 'number' && stored > pre.snapshot) {
      v(`the projection's cursor ${stored} passed its durable snapshot checkpoint ${pre.snapshot}`);
    }
    ledger.cursorAck(name, cursor);
  }
}

function clampJustified(
  e: CursorClampEvent,
  stored: number | Error | undefined,
  cutOffset: number | undefined,
  earliest: number,
  head: number,
  boundaries: Set<number>,
  sorted: number[],
): boolean {
  if (typeof stored !== 'number' || e.storedCursor !== stored) return false;
  switch (e.reason) {
    case 'cut-by-recovery':
      return cutOffset !== undefined && e.storedCursor > cutOffset && e.clampedTo === cutOffset;
    case 'beyond-head':
      return e.storedCursor > head && e.clampedTo === head;
    case 'below-earliest':
      return e.storedCursor < earliest && e.clampedTo === earliest;
    case 'not-a-boundary': {
      if (boundaries.has(e.storedCursor)) return false;
      const before = sorted.filter((b) => b < e.storedCursor).pop();
      return e.clampedTo === before;
    }
  }
}

/** Folds the ledger from offset 0 to `upTo` with the projection's own step: the "rebuild from 0" of the checker. */
function foldLedger(ledger: Ledger, upTo: number): TallyState | string {
  let state = initialTally();
  let pos = 0;
  for (const offset of ledger.sortedOffsets()) {
    if (offset >= upTo) break;
    if (offset !== pos) return `the checker's record of the log has a gap at ${pos} (next known record at ${offset})`;
    const payload = ledger.records.get(offset)!.payload;
    state = applyTally(state, JSON.parse(payload), offset);
    pos = offset + RECORD_OVERHEAD + Buffer.byteLength(payload);
  }
  if (pos !== upTo) return `the checker's record of the log ends at ${pos}, the checkpoint is ${upTo}`;
  return state;
}

async function checkProjection(
  ctx: CheckContext,
  registry: ConsumerRegistry,
  logger: { warn: (m: string) => void; info: () => undefined },
  cutOffset: number | undefined,
  v: (m: string) => void,
): Promise<boolean> {
  const { journal, figures, ledger, pre } = ctx;
  const engine = ProjectionEngine.forJournal(journal, { registry, store: new FileSnapshotStore(ctx.dir, ctx.io), logger });
  engine.register(tallyProjection);
  let dead = false;
  try {
    const [report] = await engine.start({ follow: false });
    if (!report) throw new Error('no start report');
    if (report.mode === 'failed') {
      const snap = typeof pre.snapshot === 'number' ? pre.snapshot : undefined;
      // Allowed by the design: the projection applied unsynced records, its
      // snapshot and cursor moved past them, cleanup deleted the old segments,
      // then a power loss took the unsynced records: a rebuild needs history
      // that is gone, and the engine must say so instead of guessing.
      const lostHistory = isEpistemeError(report.error, ProjectionErrorCodes.HistoryDeleted) && journal.earliest > 0 && ctx.powerLoss && snap !== undefined && (snap > journal.head || (cutOffset !== undefined && cutOffset < snap));
      if (lostHistory) {
        figures.count('projection.unrebuildableAfterPowerLoss (HistoryDeleted, allowed)');
        figures.finding(
          'crash',
          ctx.replay,
          'with unsynced appends (durability none), the projection snapshots past what is synced and its cursor lets cleanup delete the old segments; ' +
            'a power loss then takes the unsynced tail: checkpoint beyond the head, history deleted, the projection can never be rebuilt (HistoryDeleted). ' +
            'As designed (docs/projections.md: a rebuild without history fails clearly), but a power loss should not cost a projection for good',
        );
        dead = true;
      } else {
        v(`the projection failed to start: ${report.detail}`);
      }
    } else {
      figures.count(`projection.${report.mode}${report.mode === 'rebuilt' ? ` (${report.reason})` : ''}`);
      const q = engine.query<TallyState>(TALLY_NAME);
      const expected = foldLedger(ledger, q.checkpoint);
      if (typeof expected === 'string') v(`projection check: ${expected}`);
      else if (canonicalHash(q.state) !== canonicalHash(expected)) {
        v(`projection state at checkpoint ${q.checkpoint} (${q.state.n} events) differs from the fold from 0 (${expected.n} events) after a ${report.mode === 'rebuilt' ? `rebuild (${report.reason})` : 'resume'}`);
      } else figures.count('projection.statesEqualToFoldFrom0');
      if (journal.earliest === 0) {
        const fresh = ProjectionEngine.forJournal(journal, { store: new InMemorySnapshotStore(), logger });
        fresh.register(tallyProjection);
        await fresh.start({ follow: false });
        const rebuilt = fresh.query<TallyState>(TALLY_NAME);
        const all = foldLedger(ledger, rebuilt.checkpoint);
        if (typeof all !== 'string' && canonicalHash(rebuilt.state) !== canonicalHash(all)) v('a fresh rebuild from 0 differs from the fold of the log');
        else if (rebuilt.checkpoint === q.checkpoint && canonicalHash(rebuilt.state) !== canonicalHash(q.state)) v('the resumed projection differs from a fresh rebuild from 0');
        else figures.count('projection.freshRebuildsCompared');
        await fresh.stop();
      }
    }
  } catch (err) {
    v(`the projection engine threw on start: ${describeError(err)}`);
  }
  try {
    await engine.stop();
  } catch (err) {
    v(`the projection engine failed to stop after the check: ${describeError(err)}`);
  }
  return dead;
}
