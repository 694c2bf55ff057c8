import type { StatePositions } from '@episteme/wal';
import { decodeSnapshot } from './snapshot.js';
import { PROJECTIONS_DIR } from './stores.js';

/**
 * For `backupJournal` (`statePositions`): the checkpoint a projection's
 * snapshot holds, which a backup checks is not beyond the head it copied.
 * A damaged snapshot names none (the projection rebuilds from it anyway).
 */
export const SNAPSHOT_POSITIONS: StatePositions = {
  prefix: `${PROJECTIONS_DIR}/`,
  positions(bytes, path) {
    if (!path.endsWith('.snapshot')) return [];
    try {
      return [decodeSnapshot(bytes, path).checkpoint];
    } catch {
      return [];
    }
  },
};
