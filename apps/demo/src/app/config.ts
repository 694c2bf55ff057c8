import { DEFAULT_OPTIONS, EpistemeError, type Durability } from '@episteme/wal';

/** What the app is configured with; flags win over environment variables, which win over defaults. */
export interface AppConfig {
  dataDir: string;
  durability: Durability;
  groupCommit: boolean;
  maxSegmentBytes: number;
  /** The largest record the journal takes; a journal holding larger ones (written with a larger limit) opens only with one at least that large. */
  maxPayloadBytes: number;
  /**
   * How long a command that writes waits for the writer lock that another
   * process holds (another command, a running app) before it gives up with
   * WAL_LOCKED; 0 does not wait.
   */
  lockWaitMs: number;
}

export const DEFAULT_CONFIG: AppConfig = {
  dataDir: './episteme-data',
  durability: 'immediate',
  groupCommit: true,
  maxSegmentBytes: 64 * 1024 * 1024,
  maxPayloadBytes: DEFAULT_OPTIONS.maxPayloadBytes,
  lockWaitMs: 5000,
};

/** Environment variables the app reads, and the option each sets. */
export const ENV = {
  dataDir: 'EPISTEME_DATA',
  durability: 'EPISTEME_DURABILITY',
  groupCommit: 'EPISTEME_GROUP_COMMIT',
  maxSegmentBytes: 'EPISTEME_SEGMENT_BYTES',
  maxPayloadBytes: 'EPISTEME_MAX_PAYLOAD_BYTES',
  lockWaitMs: 'EPISTEME_LOCK_WAIT',
} as const;

/** A flag or environment variable has a value the app cannot use; nothing was opened. */
export class ConfigError extends EpistemeError<'APP_CONFIG'> {
  constructor(message: string) {
    super('APP_CONFIG', 'invalid-input', message);
  }
}

export function resolveConfig(flags: Partial<Record<keyof AppConfig, string | boolean | number | undefined>>, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const pick = (key: keyof AppConfig): string | boolean | number | undefined => flags[key] ?? env[ENV[key]];
  const durability = String(pick('durability') ?? DEFAULT_CONFIG.durability);
  if (durability !== 'immediate' && durability !== 'none') throw new ConfigError(`durability must be immediate or none, got ${JSON.stringify(durability)}`);
  const gc = pick('groupCommit');
  const groupCommit = gc === undefined ? DEFAULT_CONFIG.groupCommit : gc === true || gc === 'true' || gc === '1' || gc === 'on';
  if (gc !== undefined && typeof gc !== 'boolean' && !['true', 'false', '1', '0', 'on', 'off'].includes(String(gc))) {
    throw new ConfigError(`group commit must be on or off, got ${JSON.stringify(gc)}`);
  }
  const seg = pick('maxSegmentBytes');
  const maxSegmentBytes = seg === undefined ? DEFAULT_CONFIG.maxSegmentBytes : Number(seg);
  if (!Number.isSafeInteger(maxSegmentBytes) || maxSegmentBytes < 1024) throw new ConfigError(`segment size must be an integer of at least 1024 bytes, got ${JSON.stringify(seg)}`);
  const payload = pick('maxPayloadBytes');
  const maxPayloadBytes = payload === undefined ? DEFAULT_CONFIG.maxPayloadBytes : Number(payload);
  // the format's length field is a u32
  if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 1 || maxPayloadBytes > 0xffffffff) {
    throw new ConfigError(`the payload limit must be an integer from 1 to 4294967295 bytes, got ${JSON.stringify(payload)}`);
  }
  const wait = pick('lockWaitMs');
  const lockWaitMs = wait === undefined ? DEFAULT_CONFIG.lockWaitMs : typeof wait === 'string' && /^(0|[1-9][0-9]*)$/.test(wait) ? Number(wait) : wait;
  if (typeof lockWaitMs !== 'number' || !Number.isSafeInteger(lockWaitMs) || lockWaitMs < 0) {
    throw new ConfigError(`the lock wait must be a whole number of milliseconds (0: do not wait), got ${JSON.stringify(wait)}`);
  }
  const dataDir = String(pick('dataDir') ?? DEFAULT_CONFIG.dataDir);
  if (dataDir.length === 0) throw new ConfigError('the data directory cannot be empty');
  return { dataDir, durability, groupCommit, maxSegmentBytes, maxPayloadBytes, lockWaitMs };
}
