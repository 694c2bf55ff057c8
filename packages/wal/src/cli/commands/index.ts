import type { Command } from '../command.js';
import { appendCommand } from './append.js';
import { backupCommand, restoreCommand } from './backup.js';
import { dumpCommand } from './dump.js';
import { recoverCommand } from './recover.js';
import { segmentsCommand } from './segments.js';
import { verifyCommand } from './verify.js';

/**
 * Every command, in the order `--help` lists them. A new command is one
 * file in this folder and one entry here: parsing, help, error handling and
 * exit codes come from main.ts.
 */
export const commands: readonly Command[] = [segmentsCommand, dumpCommand, verifyCommand, recoverCommand, appendCommand, backupCommand, restoreCommand];
