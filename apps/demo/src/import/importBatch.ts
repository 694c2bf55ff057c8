import { EncodedCommitsBuilder, eventsOfEncoded, isStoreError, StoreErrorCodes, type EncodedCommits, type LocalEventStore } from '@episteme/store';
import type { AssertionService } from '../app/assertionService.js';
import { AssertionConflictError, IdInUseError } from '../domain/assertionErrors.js';
import { metadataOf, type PreparedAssertion } from '../domain/prepare.js';
import { prepareLine } from '../domain/prepareLine.js';
import type { PreparedRun } from './preparedBatch.js';

/** How a batch's append went: lines appended, lines refused (by number, why), and an error that stops the import. */
export interface BatchOutcome {
  appended: number;
  refused: [line: number, why: string][];
  failure: { reason: unknown } | undefined;
}

/**
 * The import's batch being gathered: the commits of its lines, copied from
 * the runs they were prepared in (here or in a worker), appended with the
 * store's `appendEncoded` (one journal write and sync for them all; the
 * appending thread does nothing per line but the store's own work). Each
 * line is decided on its own, as `AssertionService.assertPrepared` decides
 * it: a line whose id has a stream already goes through the service, which
 * refuses it (IdInUseError) or appends it after a retraction.
 */
export class ImportBatch {
  private readonly builder: EncodedCommitsBuilder;
  private lines: number[] = [];
  /** A line's commit the store refused to encode: the batch fails with it, nothing of it appended (as appendEach refused a whole call). */
  private unencodable: { reason: unknown } | undefined;
  /** Commits of consecutive lines added and not yet copied into the builder: `range`'s commits rangeStart to rangeEnd (exclusive). */
  private range: PreparedRun | undefined;
  private rangeStart = 0;
  private rangeEnd = 0;

  constructor(
    private readonly store: LocalEventStore,
    private readonly service: AssertionService,
    private readonly producer: string,
  ) {
    this.builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
  }

  /** Lines in the batch. */
  get size(): number {
    return this.lines.length;
  }

  /** Adds line `lineNo`, the `index`th of `run`. */
  add(run: PreparedRun, index: number, lineNo: number): void {
    const k = run.commitOf[index]!;
    if (k >= 0) {
      // the commits of consecutive lines are copied together, when the batch is taken or another line breaks the range
      if (run.commits !== this.range?.commits || k !== this.rangeEnd) {
        this.copyRange();
        this.range = run;
        this.rangeStart = k;
      }
      this.rangeEnd = k + 1;
    } else {
      this.copyRange();
      // its commit was refused where it was prepared: made again here, for the store's typed error
      const text = run.again.find(([i]) => i === index)?.[1];
      if (text === undefined) throw new Error(`line ${lineNo} has no commit and no text to make it from`);
      const p = prepareLine(text, this.producer);
      if (typeof p === 'string') throw new Error(`line ${lineNo} was valid where it was prepared, and not here: ${p}`);
      try {
        this.builder.add(p.stream, [p.event], 'no_stream');
      } catch (err) {
        this.unencodable ??= { reason: err };
        return;
      }
    }
    this.lines.push(lineNo);
  }

  /** Appends the batch (the builder starts again empty) and says how each line went. */
  async append(): Promise<BatchOutcome> {
    this.copyRange();
    const batch = this.builder.take();
    const lines = this.lines;
    this.lines = [];
    const unencodable = this.unencodable;
    this.unencodable = undefined;
    // the whole batch is refused, as the store refuses a call with a commit it cannot take
    if (unencodable !== undefined) throw unencodable.reason;
    const out: BatchOutcome = { appended: 0, refused: [], failure: undefined };
    if (lines.length === 0) return out;
    const outcomes = await this.store.appendEncoded(batch);
    out.appended = lines.length - outcomes.refused.size;
    for (const [i, reason] of outcomes.refused) {
      if (!isStoreError(reason, StoreErrorCodes.VersionConflict)) {
        out.failure ??= { reason };
        continue;
      }
      try {
        await this.service.assertPrepared(this.preparedOf(batch, i));
        out.appended++;
      } catch (err) {
        if (err instanceof IdInUseError || err instanceof AssertionConflictError) out.refused.push([lines[i]!, err.message]);
        else out.failure ??= { reason: err };
      }
    }
    return out;
  }

  private copyRange(): void {
    if (this.range === undefined) return;
    this.builder.addEncodedRange(this.range.commits, this.rangeStart, this.rangeEnd);
    this.range = undefined;
  }

  /** Commit `i`'s assertion again, as prepareLine made it: for the service to decide. */
  private preparedOf(batch: EncodedCommits, i: number): PreparedAssertion {
    const event = eventsOfEncoded(batch, i)[0] as unknown as PreparedAssertion['event'];
    event.metadata = metadataOf(this.producer);
    return { id: event.data.id, stream: batch.streams[i]!, event };
  }
}
