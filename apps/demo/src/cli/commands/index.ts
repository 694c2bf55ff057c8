import type { AppCommand } from '../command.js';
import { consumersDeleteCommand, consumersListCommand, consumersResetCommand, projectionsListCommand, projectionsRebuildCommand } from './admin.js';
import { backupCommand, restoreCommand } from './backup.js';
import { beliefsCommand, statsCommand } from './read.js';
import { importCommand } from './import.js';
import { relayCommand } from './relay.js';
import { streamsListCommand, streamsShowCommand } from './streams.js';
import { assertCommand, retractCommand } from './write.js';

/** Every command, in the order `--help` lists them. `wal ...` is delegated to @episteme/wal's CLI. */
export const commands: readonly AppCommand[] = [
  assertCommand,
  retractCommand,
  importCommand,
  beliefsCommand,
  statsCommand,
  streamsListCommand,
  streamsShowCommand,
  consumersListCommand,
  consumersResetCommand,
  consumersDeleteCommand,
  projectionsListCommand,
  projectionsRebuildCommand,
  relayCommand,
  backupCommand,
  restoreCommand,
];
