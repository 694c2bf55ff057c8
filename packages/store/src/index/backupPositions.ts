import type { StatePositions } from '@episteme/wal';
import { checkpointHeadOf, STORE_DIR } from './checkpoint.js';

/**
 * For `backupJournal` (`statePositions`): the head the stream index
 * checkpoint covers, which a backup checks is not beyond the head it copied.
 */
export const STREAM_INDEX_POSITIONS: StatePositions = {
  prefix: `${STORE_DIR}/`,
  positions(bytes) {
    const head = checkpointHeadOf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return head === undefined ? [] : [head];
  },
};
