import type { StatePositions } from '@episteme/wal';
import { decodeCursorFileContents } from './cursorFile.js';
import { CONSUMERS_DIR } from './fileCursorStore.js';

/**
 * For `backupJournal` (`statePositions`): the cursor a consumer's file
 * holds, which a backup checks is not beyond the head it copied. A damaged
 * file names none: it is the consumer's to report, in the backup as in the
 * journal.
 */
export const CURSOR_POSITIONS: StatePositions = {
  prefix: `${CONSUMERS_DIR}/`,
  positions(bytes, path) {
    try {
      return [decodeCursorFileContents(bytes, path).state.cursor];
    } catch {
      return [];
    }
  },
};
