import { WalError, WalErrorCodes } from '../errors.js';

/**
 * A backup or restore was pointed where it must not write. `reason` says
 * which rule: the journal itself or a directory inside it, a non-empty
 * directory that holds no backup, a restore target that is not empty (or
 * holds a journal). Nothing was changed.
 */
export class BackupTargetError extends WalError {
  constructor(
    readonly target: string,
    readonly reason: 'inside-journal' | 'journal-inside-target' | 'not-empty' | 'holds-journal' | 'not-a-directory',
    detail: string,
  ) {
    super(WalErrorCodes.BackupTarget, `refusing ${target}: ${detail}; nothing was changed`);
  }
}

/** The directory named as a backup has no manifest (BACKUP_MANIFEST). */
export class NotABackupError extends WalError {
  constructor(readonly dir: string, detail: string) {
    super(WalErrorCodes.NotABackup, `${dir} is not a backup: ${detail}`);
  }
}

/**
 * A file of a backup does not match its manifest: `file` is its path
 * relative to the backup (`BACKUP_MANIFEST` when the manifest itself is
 * damaged).
 */
export class BackupDamagedError extends WalError {
  constructor(readonly dir: string, readonly file: string, readonly problem: string) {
    super(WalErrorCodes.BackupDamaged, `backup ${dir}: ${file} ${problem}`);
  }
}

/**
 * What a backup read does not fit together: a segment gone between the
 * listing and the copy (cleanup passed it meanwhile), a state file that
 * names a position beyond the head. The earlier backup in the target, if
 * any, is still described by its manifest. Running the backup again reads
 * a new moment.
 */
export class BackupInconsistentError extends WalError {
  constructor(detail: string) {
    super(WalErrorCodes.BackupInconsistent, `the backup is inconsistent: ${detail}; run it again`);
  }
}
