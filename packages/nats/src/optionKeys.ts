import { unknownOptionKey, unknownOptionMessage } from '@episteme/wal/internals';
import type { NatsConnectOptions } from './connection.js';
import { NatsClusterError, NatsErrorCodes } from './errors.js';

/** How to reach the cluster: taken by every entry of this package beside its own options. */
const CONNECT_KEYS: Record<keyof NatsConnectOptions, true> = { servers: true, user: true, pass: true, token: true, nkeySeed: true, credsFile: true, tls: true, timeoutMs: true, name: true };

/**
 * Refuses (NATS_INVALID_ARGUMENT) options with a key the call does not take,
 * before anything connects: a misspelt `folow` or `credFile` would otherwise
 * be its default, silently.
 */
export function checkNatsOptionKeys(call: string, options: unknown, own: readonly string[]): void {
  if (typeof options !== 'object' || options === null) return; // the call's own checks name what is missing
  const allowed = [...own, ...Object.keys(CONNECT_KEYS)];
  const key = unknownOptionKey(options, allowed);
  if (key !== undefined) throw new NatsClusterError(NatsErrorCodes.InvalidArgument, unknownOptionMessage(call, key, allowed));
}
