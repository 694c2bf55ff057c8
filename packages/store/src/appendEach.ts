import type { Appended } from '@episteme/wal';
import { resultOf, type PendingWrite, type WriteDone } from './commitPipeline.js';
import type { PreparedCommit } from './commit/encodeCommit.js';
import { metadataMemo, prepareCommit, type MetadataMemo } from './commit/encodeCommit.js';
import { describeValue } from './describeValue.js';
import { CommitTooLargeError, StoreInvalidArgumentError } from './errors.js';
import { validateExpectedVersion } from './expectedVersion.js';
import { checkOptionKeys } from './optionKeys.js';
import { validateStreamName } from './streamName.js';
import type { AppendOptions, AppendResult, Event, ExpectedVersion } from './types.js';

/**
 * One commit of `appendEach`: what one `appendToStream` call takes, as one
 * object (`expectedVersion` 'any' and `recreate` false when left out).
 */
export interface StreamCommit<E extends Event = Event> {
  readonly stream: string;
  readonly events: readonly E[];
  readonly expectedVersion?: ExpectedVersion;
  readonly recreate?: boolean;
}

/** How one commit of `appendEach` went: what `Promise.allSettled` gives for its `appendToStream`. */
export type CommitOutcome = PromiseSettledResult<AppendResult>;

const COMMIT_KEYS = ['stream', 'events', 'expectedVersion', 'recreate'];
const APPEND_OPTION_KEYS = ['expectedVersion', 'recreate'];

/** A commit whose arguments are checked and whose events are serialised: nothing reserved yet. */
export interface CheckedCommit {
  prepared: PreparedCommit;
  expected: ExpectedVersion;
  recreate: boolean;
  /** The events as given: a retry racing its original is decided again with them. */
  events: readonly Event[];
}

/** Checks what `appendToStream` was given; throws the typed error of the first thing wrong (nothing is reserved). */
export function checkAppend(stream: string, events: readonly Event[], options: AppendOptions | undefined, maxPayloadBytes: number): CheckedCommit {
  validateStreamName(stream);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new StoreInvalidArgumentError('options must be an object');
  checkOptionKeys('appendToStream', options, APPEND_OPTION_KEYS);
  return checked(stream, events, options?.expectedVersion, options?.recreate, maxPayloadBytes);
}

/** Checks the commits of an `appendEach` call, all of them before anything is reserved; throws for the first one wrong. */
export function checkEach(commits: readonly StreamCommit[], maxPayloadBytes: number): CheckedCommit[] {
  if (!Array.isArray(commits)) throw new StoreInvalidArgumentError(`appendEach takes an array of commits, not ${describeValue(commits)}`);
  const out = new Array<CheckedCommit>(commits.length);
  // the commits of one call often share a metadata object: its JSON is made once
  const memo = metadataMemo();
  for (let i = 0; i < commits.length; i++) {
    const c = commits[i];
    if (typeof c !== 'object' || c === null) throw new StoreInvalidArgumentError(`commit ${i} of appendEach is not an object: ${describeValue(c)}`);
    checkOptionKeys(`appendEach (commit ${i})`, c, COMMIT_KEYS);
    validateStreamName(c.stream);
    out[i] = checked(c.stream, c.events, c.expectedVersion, c.recreate, maxPayloadBytes, memo);
  }
  return out;
}

function checked(stream: string, events: readonly Event[], expectedVersion: unknown, recreate: unknown, maxPayloadBytes: number, memo?: MetadataMemo): CheckedCommit {
  const expected = validateExpectedVersion(expectedVersion);
  if (recreate !== undefined && typeof recreate !== 'boolean') throw new StoreInvalidArgumentError(`recreate must be true or false, not ${describeValue(recreate)}`);
  const prepared = prepareCommit(stream, events, memo);
  if (prepared.size > maxPayloadBytes) throw new CommitTooLargeError(stream, prepared.size, maxPayloadBytes);
  return { prepared, expected, recreate: recreate === true, events };
}

/** The options that decide a checked commit again (a retry that waited for its original). */
export function optionsOf(c: CheckedCommit): AppendOptions {
  return { expectedVersion: c.expected, recreate: c.recreate };
}

/** The outcomes of one `appendEach`, filled slot by slot as the commits are decided; `promise` resolves with the last. */
export class EachOutcomes implements WriteDone {
  readonly promise: Promise<CommitOutcome[]>;
  private readonly outcomes: CommitOutcome[];
  private left: number;
  private resolve!: (outcomes: CommitOutcome[]) => void;

  constructor(count: number) {
    this.outcomes = new Array<CommitOutcome>(count);
    this.left = count;
    this.promise = new Promise((resolve) => (this.resolve = resolve));
    if (count === 0) this.resolve(this.outcomes);
  }

  writtenAt(slot: number, w: PendingWrite, at: Appended): void {
    this.written(slot, resultOf(w, at) as AppendResult);
  }

  written(slot: number, value: unknown): void {
    this.outcomes[slot] = { status: 'fulfilled', value: value as AppendResult };
    if (--this.left === 0) this.resolve(this.outcomes);
  }

  failed(slot: number, reason: unknown): void {
    this.outcomes[slot] = { status: 'rejected', reason };
    if (--this.left === 0) this.resolve(this.outcomes);
  }
}
