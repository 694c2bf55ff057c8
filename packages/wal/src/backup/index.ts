export { backupJournal, type BackupOptions, type BackupProgress, type BackupReport } from './backup.js';
export { restoreBackup, type RestoreOptions, type RestoreReport } from './restore.js';
export { readManifest, MANIFEST_FILE, type Manifest, type ManifestEntry } from './manifest.js';
export { verifyBackup } from './verifyBackup.js';
export type { StatePositions } from './capture.js';
export { BackupTargetError, NotABackupError, BackupDamagedError, BackupInconsistentError } from './errors.js';
