import { EpistemeError, isEpistemeError, isWalError, type ErrorCategory } from '@episteme/wal';
import { describe, expect, it } from 'vitest';
import {
  ConsumerError,
  ConsumerErrorCodes,
  ConsumerIoError,
  ConsumerNotFoundError,
  ConsumerRunningError,
  CorruptCursorError,
  CursorBackwardsError,
  InvalidConsumerArgumentError,
  InvalidConsumerNameError,
  InvalidCursorError,
  isConsumerError,
  type ConsumerErrorCode,
} from '../src/index.js';

/** The category of every code: the contract the CLIs' exit codes are derived from. */
const CATEGORY_OF: Record<ConsumerErrorCode, ErrorCategory> = {
  CONSUMER_INVALID_NAME: 'invalid-input',
  CONSUMER_NOT_FOUND: 'not-found',
  CONSUMER_INVALID_CURSOR: 'invalid-input',
  CONSUMER_CURSOR_BACKWARDS: 'invalid-input',
  CONSUMER_CORRUPT_CURSOR: 'corrupt',
  CONSUMER_RUNNING: 'conflict',
  CONSUMER_INVALID_ARGUMENT: 'invalid-input',
  CONSUMER_IO: 'io',
};

const CLASSES: [ConsumerError, ConsumerErrorCode][] = [
  [new InvalidConsumerNameError('../x', 'path characters'), 'CONSUMER_INVALID_NAME'],
  [new ConsumerNotFoundError('c'), 'CONSUMER_NOT_FOUND'],
  [new InvalidCursorError('c', 3, 'not a boundary'), 'CONSUMER_INVALID_CURSOR'],
  [new CursorBackwardsError('c', 10, 5), 'CONSUMER_CURSOR_BACKWARDS'],
  [new CorruptCursorError('/d/c.cursor', 'no valid slot'), 'CONSUMER_CORRUPT_CURSOR'],
  [new ConsumerRunningError('c', 42), 'CONSUMER_RUNNING'],
  [new InvalidConsumerArgumentError('bad'), 'CONSUMER_INVALID_ARGUMENT'],
  [new ConsumerIoError('write', '/d/c.cursor', Object.assign(new Error('disk full'), { code: 'ENOSPC' })), 'CONSUMER_IO'],
];

describe('the error model of @episteme/consumers', () => {
  it.each(CLASSES.map(([err, code]) => [err.constructor.name, err, code] as const))('%s carries its code and the category of that code', (_name, err, code) => {
    expect(err.code).toBe(code);
    expect(err.category).toBe(CATEGORY_OF[code]);
    expect(err).toBeInstanceOf(EpistemeError);
    expect(isEpistemeError(err, code)).toBe(true);
    expect(isConsumerError(err, code)).toBe(true);
    expect(isWalError(err)).toBe(false);
  });

  it('every code has a class in the table, and a category', () => {
    expect(CLASSES.map(([, code]) => code).sort()).toEqual(Object.values(ConsumerErrorCodes).sort());
  });

  it('a ConsumerIoError keeps the errno of its cause', () => {
    expect(new ConsumerIoError('write', '/x', Object.assign(new Error('disk full'), { code: 'ENOSPC' })).errno).toBe('ENOSPC');
  });
});
