import { ConsumerNotFoundError, isConsumerError } from '@episteme/consumers';
import { ClosedError, EpistemeError, isEpistemeError, isWalError, type ErrorCategory } from '@episteme/wal';
import { describe, expect, it } from 'vitest';
import {
  ApplyFailedError,
  CorruptSnapshotError,
  HistoryDeletedError,
  InvalidProjectionArgumentError,
  isProjectionError,
  ProjectionBusyError,
  ProjectionError,
  ProjectionErrorCodes,
  ProjectionNotFoundError,
  StateNotSerializableError,
  UndecodableEventError,
  EventNotEncodableError,
  type ProjectionErrorCode,
} from '../src/index.js';

/** The category of every code: the contract the CLIs' exit codes are derived from. */
const CATEGORY_OF: Record<ProjectionErrorCode, ErrorCategory> = {
  PROJECTION_HISTORY_DELETED: 'state',
  PROJECTION_NOT_FOUND: 'not-found',
  PROJECTION_CORRUPT_SNAPSHOT: 'corrupt',
  PROJECTION_APPLY_FAILED: 'state',
  PROJECTION_INVALID_ARGUMENT: 'invalid-input',
  PROJECTION_BUSY: 'state',
  PROJECTION_STATE_NOT_SERIALIZABLE: 'state',
  PROJECTION_UNDECODABLE_EVENT: 'corrupt',
  PROJECTION_EVENT_NOT_ENCODABLE: 'invalid-input',
};

const CLASSES: [ProjectionError, ProjectionErrorCode][] = [
  [new HistoryDeletedError('p', 100), 'PROJECTION_HISTORY_DELETED'],
  [new ProjectionNotFoundError('p'), 'PROJECTION_NOT_FOUND'],
  [new CorruptSnapshotError('/d/p.snapshot', 'no header line'), 'PROJECTION_CORRUPT_SNAPSHOT'],
  [new ApplyFailedError('p', 24, new Error('boom')), 'PROJECTION_APPLY_FAILED'],
  [new InvalidProjectionArgumentError('bad'), 'PROJECTION_INVALID_ARGUMENT'],
  [new ProjectionBusyError('busy'), 'PROJECTION_BUSY'],
  [new StateNotSerializableError('p', new TypeError('BigInt')), 'PROJECTION_STATE_NOT_SERIALIZABLE'],
  [new UndecodableEventError(3, 'a bool of 7'), 'PROJECTION_UNDECODABLE_EVENT'],
  [new EventNotEncodableError('event.qty', 'missing'), 'PROJECTION_EVENT_NOT_ENCODABLE'],
];

describe('the error model of @episteme/projections', () => {
  it.each(CLASSES.map(([err, code]) => [err.constructor.name, err, code] as const))('%s carries its code and the category of that code', (_name, err, code) => {
    expect(err.code).toBe(code);
    expect(err.category).toBe(CATEGORY_OF[code]);
    expect(err).toBeInstanceOf(EpistemeError);
    expect(isEpistemeError(err, code)).toBe(true);
    expect(isProjectionError(err, code)).toBe(true);
  });

  it('every code has a class in the table, and a category', () => {
    expect(CLASSES.map(([, code]) => code).sort()).toEqual(Object.values(ProjectionErrorCodes).sort());
  });

  it('one guard across the packages; each package guard only takes its own codes', () => {
    const wal = new ClosedError();
    const consumer = new ConsumerNotFoundError('c');
    const projection = new ProjectionNotFoundError('p');
    for (const err of [wal, consumer, projection]) expect(isEpistemeError(err), err.code).toBe(true);
    expect(isEpistemeError(consumer, 'CONSUMER_NOT_FOUND')).toBe(true);
    expect(isEpistemeError(consumer, 'PROJECTION_NOT_FOUND')).toBe(false);
    expect([isWalError(wal), isWalError(consumer), isWalError(projection)]).toEqual([true, false, false]);
    expect([isConsumerError(wal), isConsumerError(consumer), isConsumerError(projection)]).toEqual([false, true, false]);
    expect([isProjectionError(wal), isProjectionError(consumer), isProjectionError(projection)]).toEqual([false, false, true]);
  });
});
