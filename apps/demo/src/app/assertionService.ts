import { inject, injectable } from 'tsyringe';
import { isStoreError, StoreErrorCodes, type AppendResult, type EventStore, type LocalEventStore, type RecordedEvent, type StreamCommit, type VersionConflictError } from '@episteme/store';
import { AlreadyRetractedError, AssertionConflictError, AssertionNotFoundError, IdInUseError } from '../domain/assertionErrors.js';
import type { AssertionEvent } from '../domain/events.js';
import { prepareAssertion, prepareRetraction, type PreparedAssertion, type PreparedEvent } from '../domain/prepare.js';
import { EVENT_STORE } from './tokens.js';
import { AssertionBatch } from './assertionBatch.js';

/** What an append of the app gives back: enough to find the event again. */
export interface Appended {
  /** The assertion's id. */
  id: string;
  /** The assertion's stream, `assertion-<id>`. */
  stream: string;
  /** The stream's version after this event (1 for a new assertion): its position in the stream. */
  version: number;
  /** The event's global position in the store (order of the log; not dense). */
  globalPosition: number;
}

/** An assertion's stream folded: does it stand, and about what. */
interface AssertionState {
  standing: boolean;
  subject: string | undefined;
}

/** The options of every new assertion's append, made once. */
const NO_STREAM = Object.freeze({ expectedVersion: 'no_stream' as const });

const NOTHING: AssertionState = Object.freeze({ standing: false, subject: undefined });

function evolve(state: AssertionState, event: RecordedEvent<AssertionEvent>): AssertionState {
  if (event.type === 'AssertionMade') return { standing: true, subject: event.data.subject };
  if (event.type === 'AssertionRetracted') return { standing: false, subject: state.subject };
  return state;
}

function asConflict(err: unknown): VersionConflictError | undefined {
  return isStoreError(err, StoreErrorCodes.VersionConflict) ? (err as VersionConflictError) : undefined;
}

/**
 * The write side of the app: validates input into domain events and
 * appends each to its assertion's stream with an expected version, so that
 * the check (the id is new, the assertion stands) and the append are one
 * step in the writer: a concurrent append that got there first makes the
 * expected version fail, and nothing is appended. Nothing invalid ever
 * reaches the log.
 */
@injectable()
export class AssertionService {
  /** The new assertions of one job of the event loop, appended together (a store with appendEach: the embedded one). */
  private readonly batch: AssertionBatch | undefined;

  // any EventStore: the embedded one (the container's), or the cluster's (`--nats`)
  constructor(@inject(EVENT_STORE) private readonly store: EventStore) {
    this.batch = hasAppendEach(store) ? new AssertionBatch(this) : undefined;
  }

  /**
   * Validates an assertion and appends it to its new stream, as
   * `assertPrepared` does. The assertions of many callers asked for in one
   * job of the event loop go to the store in one `appendEach` (see
   * AssertionBatch): each still gets its own outcome, durable when it
   * resolves, with less of the store's work per commit than a call each.
   */
  assert(input: Record<string, unknown>, producer?: string): Promise<Appended> {
    let p: PreparedAssertion;
    try {
      p = prepareAssertion(input, producer);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.batch ? this.batch.add(p) : this.assertPrepared(p);
  }

  /**
   * Appends a validated assertion to its new stream (`'no_stream'`). When
   * its id has a stream already, the conflict refuses it, unless that
   * assertion was retracted: a new assertion may take a retracted id, and is
   * appended after the retraction, at the version just read.
   */
  assertPrepared(p: PreparedAssertion): Promise<Appended> {
    return this.store.appendToStream(p.stream, [p.event], NO_STREAM).then(
      (r) => this.appended(p, r),
      (err: unknown) => this.afterConflict(p, err),
    );
  }

  /**
   * Appends many validated assertions, each to its new stream, with the
   * store's `appendEach` (one journal write and sync for them all): each
   * is decided on its own, exactly as `assertPrepared` decides it (a
   * refused one does not stop the others), and the outcomes come back in
   * the same order, as `Promise.allSettled` of those calls would give them.
   */
  assertEach(prepared: readonly PreparedAssertion[]): Promise<PromiseSettledResult<Appended>[]> {
    // a store without appendEach (the cluster's): the same outcomes, one append each
    if (!hasAppendEach(this.store)) return Promise.allSettled(prepared.map((p) => this.assertPrepared(p)));
    const store = this.store;
    const commits = new Array<StreamCommit<PreparedAssertion['event']>>(prepared.length);
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      commits[i] = { stream: p.stream, events: [p.event], expectedVersion: 'no_stream' };
    }
    return store.appendEach(commits).then((outcomes) => {
      const out = new Array<PromiseSettledResult<Appended>>(outcomes.length);
      let refused: Promise<void>[] | undefined;
      for (let i = 0; i < outcomes.length; i++) {
        const o = outcomes[i]!;
        const p = prepared[i]!;
        if (o.status === 'fulfilled') out[i] = { status: 'fulfilled', value: this.appended(p, o.value) };
        else {
          // as assertPrepared: a conflict may still be appended (a retracted id), anything else is passed on
          (refused ??= []).push(
            this.afterConflict(p, o.reason).then(
              (value) => void (out[i] = { status: 'fulfilled', value }),
              (reason: unknown) => void (out[i] = { status: 'rejected', reason }),
            ),
          );
        }
      }
      return refused === undefined ? out : Promise.all(refused).then(() => out);
    });
  }

  /** The new stream's append was refused: by a conflict, the id's stream exists; anything else is passed on. */
  private async afterConflict(p: PreparedAssertion, err: unknown): Promise<Appended> {
    const conflict = asConflict(err);
    if (!conflict) throw err;
    const { state, currentVersion } = await this.stateOf(p.stream);
    // version 0: the stream's first commit is still in flight (another append of this process)
    if (currentVersion === 0 || state.standing) throw new IdInUseError(p.id, p.stream, 'no_stream', conflict.actual, currentVersion === 0 ? undefined : state.subject);
    return this.appendAt(p, currentVersion);
  }

  /**
   * Appends the retraction of an assertion that stands: the stream is read
   * here, in the writer, and the retraction appended at the version read.
   */
  async retract(input: Record<string, unknown>, producer?: string): Promise<Appended> {
    const p = prepareRetraction(input, producer);
    const { state, currentVersion } = await this.stateOf(p.stream);
    if (currentVersion === 0) throw new AssertionNotFoundError(p.id, p.stream);
    if (!state.standing) throw new AlreadyRetractedError(p.id, p.stream, currentVersion);
    return this.appendAt(p, currentVersion);
  }

  private async appendAt(p: PreparedEvent, expectedVersion: number): Promise<Appended> {
    try {
      return this.appended(p, await this.store.appendToStream(p.stream, [p.event], { expectedVersion }));
    } catch (err) {
      const conflict = asConflict(err);
      if (conflict) throw new AssertionConflictError(p.id, p.stream, expectedVersion, conflict.actual, err);
      throw err;
    }
  }

  private stateOf(stream: string): Promise<{ state: AssertionState; currentVersion: number }> {
    return this.store.aggregateStream<AssertionState, AssertionEvent>(stream, { initialState: () => NOTHING, evolve });
  }

  private appended(p: PreparedEvent, r: AppendResult): Appended {
    return { id: p.id, stream: p.stream, version: r.nextExpectedVersion, globalPosition: r.globalPosition };
  }
}

function hasAppendEach(store: EventStore): store is EventStore & Pick<LocalEventStore, 'appendEach'> {
  return typeof (store as Partial<LocalEventStore>).appendEach === 'function';
}
