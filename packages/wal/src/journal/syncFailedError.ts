import { IoError, ioError } from '../errors.js';

/**
 * An fsync, a directory sync or the undo of a failed step did not complete:
 * what is durable on disk is no longer known. The writer must not retry (a
 * second fsync can report success for pages the kernel already dropped); it
 * enters the failed state, and reopening re-runs recovery. Still an IoError
 * (code WAL_IO), so that it is typed wherever it escapes.
 */
export class SyncFailedError extends IoError {
  constructor(action: string, path: string, cause: unknown) {
    const wrapped = ioError(action, path, cause);
    super(wrapped.message, { cause });
  }
}
