import { ConsumerErrorCodes, type ConsumerRegistry, type CorruptCursorError, type Logger } from '@episteme/consumers';
import { isEpistemeError } from '@episteme/wal';
import { consumerNameOf } from './definition.js';

/*
 * A projection's consumer cursor only holds back cleanup at the projection's
 * durable checkpoint; the state lives in its snapshot. So a damaged cursor
 * file (a bit flip, a hand edit) is written anew wherever the engine meets
 * it, with one warning naming the projection and what was done: refusing
 * would stop the projection (or the app) over a file whose only job is that
 * fence. The registry knows nothing of projections; the words are here.
 */

/**
 * At registration: the cursor is registered, or, when its file is damaged,
 * rewritten at the earliest retained offset (the checkpoint is not known
 * yet), which holds back every segment still there until the projection's
 * next snapshot moves it. The registry's own warning about the file (which
 * advises a reset) is taken over: the engine registers in the turn the
 * registry is built.
 */
export function registerProjectionCursor(registry: ConsumerRegistry, projection: string, logger: Logger): void {
  const consumer = consumerNameOf(projection);
  try {
    registry.register(consumer, { startFrom: 'earliest' });
  } catch (err) {
    if (!isEpistemeError<CorruptCursorError>(err, ConsumerErrorCodes.CorruptCursor)) throw err;
    const { cursor } = registry.reset(consumer, 'earliest');
    registry.takeDamageReport(consumer);
    logger.warn(
      `projection "${projection}": its cursor file ${err.path} was damaged (${err.why}); rewritten at the earliest retained offset ${cursor}, ` +
        `which holds back every segment still there; the projection's state is untouched, and its next snapshot moves it to the projection's checkpoint`,
    );
  }
}

/**
 * After a snapshot at `checkpoint` is durable: the cursor follows it. A file
 * damaged since the projection was registered (the app is running) is
 * rewritten at that checkpoint, which the snapshot on disk covers; so is a
 * cursor deleted meanwhile (`consumers delete` from another process): the
 * projection is still running and must go on holding back cleanup.
 */
export function moveProjectionCursor(registry: ConsumerRegistry, projection: string, checkpoint: number, logger: Logger): void {
  const consumer = consumerNameOf(projection);
  let current: number;
  try {
    current = registry.get(consumer).cursor;
  } catch (err) {
    if (isEpistemeError<CorruptCursorError>(err, ConsumerErrorCodes.CorruptCursor)) {
      registry.reset(consumer, checkpoint);
      logger.warn(
        `projection "${projection}": its cursor file ${err.path} was damaged (${err.why}); rewritten at the projection's checkpoint ${checkpoint}, ` +
          `which its snapshot just saved; the projection's state is untouched and it goes on`,
      );
      return;
    }
    if (isEpistemeError(err, ConsumerErrorCodes.NotFound)) {
      registry.register(consumer, { startFrom: checkpoint });
      logger.warn(
        `projection "${projection}": its cursor (consumer "${consumer}") was deleted while the projection ran; registered again at the projection's checkpoint ${checkpoint}, ` +
          `which its snapshot just saved (while it was gone, cleanup could delete segments the projection had not read yet)`,
      );
      return;
    }
    throw err;
  }
  if (current <= checkpoint) registry.commit(consumer, checkpoint);
  else registry.reset(consumer, checkpoint);
}

/**
 * Through a reader's registry (a query from another process; no Retention)
 * the engine writes no cursor, so a damaged one stays as it is; what repairs it needs no
 * action from the reader, so the registry's warning (which advises a reset)
 * is taken over and says that instead. A writer that registers the
 * projection rewrites it at registration; a writer already running does at
 * the projection's next snapshot. The words stay the library's: it knows
 * no app's commands.
 */
export function reportUnrepairedProjectionCursor(registry: ConsumerRegistry, projection: string, logger: Logger): void {
  const err = registry.takeDamageReport(consumerNameOf(projection));
  if (!err) return;
  logger.warn(
    `projection "${projection}": its cursor file ${err.path} is damaged (${err.why}); nothing to do: the next process that opens the journal ` +
      `as its writer with this projection registered rewrites it, and one running now does at the projection's next snapshot; the projection's state is untouched`,
    { damagedCursor: consumerNameOf(projection) },
  );
}
