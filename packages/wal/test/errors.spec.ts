import { describe, expect, it } from 'vitest';
import {
  BadSegmentHeaderError,
  ClosedError,
  CorruptRecordError,
  EpistemeError,
  exitCodeOfCategory,
  FailedStateError,
  InvalidArgumentError,
  IoError,
  isEpistemeError,
  isWalError,
  LockedError,
  MaxPayloadTooSmallError,
  NotAJournalError,
  NotRecordBoundaryError,
  OffsetOutOfRangeError,
  QuarantineError,
  RecordTooLargeError,
  WalError,
  WalErrorCodes,
  WriteFailedError,
  type ErrorCategory,
  type WalErrorCode,
} from '../src/index.js';
import { ReadOnlyError } from '../src/internals.js';
import { SyncFailedError } from '../src/journal/syncFailedError.js';
import { BackupDamagedError, BackupInconsistentError, BackupTargetError, NotABackupError } from '../src/backup/index.js';

/** The category of every code: the contract the CLIs' exit codes are derived from. */
const CATEGORY_OF: Record<WalErrorCode, ErrorCategory> = {
  WAL_INVALID_ARGUMENT: 'invalid-input',
  WAL_NOT_A_JOURNAL: 'not-found',
  WAL_BAD_SEGMENT_HEADER: 'corrupt',
  WAL_SEGMENT_GAP: 'corrupt',
  WAL_CORRUPT_RECORD: 'corrupt',
  WAL_QUARANTINE: 'corrupt',
  WAL_OFFSET_OUT_OF_RANGE: 'invalid-input',
  WAL_NOT_RECORD_BOUNDARY: 'invalid-input',
  WAL_RECORD_TOO_LARGE: 'invalid-input',
  WAL_MAX_PAYLOAD_TOO_SMALL: 'invalid-input',
  WAL_LOCKED: 'conflict',
  WAL_CLOSED: 'state',
  WAL_FAILED_STATE: 'state',
  WAL_WRITE_FAILED: 'io',
  WAL_READ_ONLY: 'state',
  WAL_IO: 'io',
  WAL_BACKUP_TARGET: 'invalid-input',
  WAL_NOT_A_BACKUP: 'not-found',
  WAL_BACKUP_DAMAGED: 'corrupt',
  WAL_BACKUP_INCONSISTENT: 'state',
};

const location = { segment: '0000000000000000.wal', position: 24, offset: 0, reason: 'crc-mismatch' as const };

/** One instance of every class, with the code it must carry. */
const CLASSES: [WalError, WalErrorCode][] = [
  [new InvalidArgumentError('bad'), 'WAL_INVALID_ARGUMENT'],
  [new NotAJournalError('/d', 'no segment'), 'WAL_NOT_A_JOURNAL'],
  [new BadSegmentHeaderError('0000000000000000.wal', 'magic'), 'WAL_BAD_SEGMENT_HEADER'],
  [new CorruptRecordError(location), 'WAL_CORRUPT_RECORD'],
  [new QuarantineError(location), 'WAL_QUARANTINE'],
  [new OffsetOutOfRangeError(9, 0, 5), 'WAL_OFFSET_OUT_OF_RANGE'],
  [new NotRecordBoundaryError(3), 'WAL_NOT_RECORD_BOUNDARY'],
  [new RecordTooLargeError(10, 5), 'WAL_RECORD_TOO_LARGE'],
  [new MaxPayloadTooSmallError(location, 10, 5), 'WAL_MAX_PAYLOAD_TOO_SMALL'],
  [new LockedError('/d', undefined), 'WAL_LOCKED'],
  [new ClosedError(), 'WAL_CLOSED'],
  [new FailedStateError(new Error('EIO')), 'WAL_FAILED_STATE'],
  [new WriteFailedError(new Error('ENOSPC')), 'WAL_WRITE_FAILED'],
  [new ReadOnlyError('append'), 'WAL_READ_ONLY'],
  [new IoError('read failed'), 'WAL_IO'],
  [new SyncFailedError('syncing', '/d/x', new Error('EIO')), 'WAL_IO'],
  [new BackupTargetError('/b', 'not-empty', 'x'), 'WAL_BACKUP_TARGET'],
  [new NotABackupError('/b', 'no manifest'), 'WAL_NOT_A_BACKUP'],
  [new BackupDamagedError('/b', 'x.wal', 'is missing'), 'WAL_BACKUP_DAMAGED'],
  [new BackupInconsistentError('gap'), 'WAL_BACKUP_INCONSISTENT'],
];

describe('the error model of @episteme/wal', () => {
  it.each(CLASSES.map(([err, code]) => [err.constructor.name, err, code] as const))('%s carries its code and the category of that code', (_name, err, code) => {
    expect(err.code).toBe(code);
    expect(err.category).toBe(CATEGORY_OF[code]);
    expect(err).toBeInstanceOf(EpistemeError);
    expect(isEpistemeError(err)).toBe(true);
    expect(isEpistemeError(err, code)).toBe(true);
    expect(isWalError(err, code)).toBe(true);
    expect(err.name).toBe(err.constructor.name);
  });

  it('every code has a category, the codes without a class of their own too', () => {
    for (const code of Object.values(WalErrorCodes)) expect(new WalError(code, 'x').category, code).toBe(CATEGORY_OF[code]);
    expect(Object.keys(CATEGORY_OF).sort()).toEqual(Object.values(WalErrorCodes).sort());
  });

  it('the guard checks the brand and the code, not the shape: a look-alike object or Error is not one', () => {
    expect(isEpistemeError({ code: 'WAL_IO', category: 'io', message: 'x' })).toBe(false);
    expect(isEpistemeError(Object.assign(new Error('x'), { code: 'WAL_IO' }))).toBe(false);
    expect(isWalError({ code: 'WAL_IO' })).toBe(false);
    expect(isEpistemeError(undefined)).toBe(false);
    expect(isEpistemeError(null)).toBe(false);
    expect(isEpistemeError('WAL_IO')).toBe(false);
    expect(isEpistemeError(new ClosedError(), 'WAL_IO')).toBe(false);
    // another package's code is an EpistemeError, not a WalError
    const other = new EpistemeError('CONSUMER_NOT_FOUND', 'not-found', 'no consumer');
    expect(isEpistemeError(other, 'CONSUMER_NOT_FOUND')).toBe(true);
    expect(isWalError(other)).toBe(false);
  });

  it('an error from a second copy of the module passes the guard, where instanceof fails', async () => {
    // the query makes the module loader evaluate the file again: two classes, as two installed copies would be
    const again = '../src/epistemeError.ts?second-copy'; // a variable: the type checker does not resolve queries
    const copy = (await import(again)) as typeof import('../src/epistemeError.js');
    expect(copy.EpistemeError).not.toBe(EpistemeError);
    const foreign = new copy.EpistemeError('WAL_LOCKED', 'conflict', 'locked elsewhere');
    expect(foreign instanceof EpistemeError).toBe(false);
    expect(isEpistemeError(foreign, 'WAL_LOCKED')).toBe(true);
    expect(isWalError(foreign, WalErrorCodes.Locked)).toBe(true);
    expect(copy.isEpistemeError(new ClosedError(), 'WAL_CLOSED')).toBe(true);
  });

  it('the brand stays out of JSON and of the keys: what scripts and tests see is unchanged', () => {
    const err = new NotRecordBoundaryError(3);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'WAL_NOT_RECORD_BOUNDARY', message: 'offset 3 is not the start of a record' });
    expect(Object.getOwnPropertySymbols(err).map((s) => Object.getOwnPropertyDescriptor(err, s)?.enumerable)).toEqual([false]);
  });

  it('a category maps to the exit code both CLIs document: 2 for bad input and a name that names nothing, else 1', () => {
    const exits: Record<ErrorCategory, number> = { 'invalid-input': 2, 'not-found': 2, conflict: 1, corrupt: 1, io: 1, state: 1 };
    for (const [category, exit] of Object.entries(exits)) expect(exitCodeOfCategory(category as ErrorCategory), category).toBe(exit);
  });
});
