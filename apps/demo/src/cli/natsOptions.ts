import type { NatsConnectOptions } from '@episteme/nats';
import { ConfigError } from '../app/config.js';

/**
 * The cluster a command talks to, from `--nats` / EPISTEME_NATS, with the
 * credentials from the environment only (never a flag: argv is visible to
 * every user of the machine in `ps`).
 */
export const NATS_ENV = {
  servers: 'EPISTEME_NATS',
  stream: 'EPISTEME_NATS_STREAM',
  user: 'EPISTEME_NATS_USER',
  pass: 'EPISTEME_NATS_PASS',
  token: 'EPISTEME_NATS_TOKEN',
  nkeySeed: 'EPISTEME_NATS_NKEY_SEED',
  creds: 'EPISTEME_NATS_CREDS',
  ca: 'EPISTEME_NATS_CA',
} as const;

export interface NatsTarget {
  connect: NatsConnectOptions;
  /** The stream (`--nats-stream`, EPISTEME_NATS_STREAM), when one was named. */
  stream: string | undefined;
}

/** Undefined when no cluster was named (the embedded journal is used). */
export function resolveNatsTarget(flags: { nats?: string | undefined; stream?: string | undefined }, env: NodeJS.ProcessEnv): NatsTarget | undefined {
  const servers = flags.nats ?? env[NATS_ENV.servers];
  if (servers === undefined || servers === '') return undefined;
  const list = servers.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new ConfigError(`--nats needs server URLs (nats://host:4222,...), got ${JSON.stringify(servers)}`);
  const connect: NatsConnectOptions = { servers: list };
  const user = env[NATS_ENV.user];
  const pass = env[NATS_ENV.pass];
  const token = env[NATS_ENV.token];
  const nkeySeed = env[NATS_ENV.nkeySeed];
  const creds = env[NATS_ENV.creds];
  const ca = env[NATS_ENV.ca];
  if (user !== undefined) connect.user = user;
  if (pass !== undefined) connect.pass = pass;
  if (token !== undefined) connect.token = token;
  if (nkeySeed !== undefined) connect.nkeySeed = nkeySeed;
  if (creds !== undefined) connect.credsFile = creds;
  if (ca !== undefined) connect.tls = { caFile: ca };
  return { connect, stream: flags.stream ?? env[NATS_ENV.stream] };
}
