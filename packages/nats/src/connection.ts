import { readFileSync } from 'node:fs';
import {
  AuthorizationError,
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  UserAuthenticationExpiredError,
  type Authenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { NatsClusterError, NatsErrorCodes } from './errors.js';

/**
 * How to reach a cluster: its servers and the credentials real clusters ask
 * for. Secrets are passed to the client only; no message of this package
 * contains one.
 */
export interface NatsConnectOptions {
  /** Server URLs (`nats://host:4222`); several, so that a client survives the loss of one. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** An NKey user's seed (`SU...`), as text. */
  nkeySeed?: string;
  /** A `.creds` file (JWT and NKey seed), by path. */
  credsFile?: string;
  /** TLS: the CA file to verify the servers with (and a client certificate where the cluster asks for one). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Milliseconds to reach a server before NATS_UNREACHABLE (default 10 s); a first connect tries each server listed for that long at most. */
  timeoutMs?: number;
  /** Shown in the server's connection list. */
  name?: string;
}

/** Connects, and turns the refusals a user can act on into typed errors instead of endless reconnects. */
export async function connectCluster(options: NatsConnectOptions): Promise<NatsConnection> {
  const servers = checkServers(options.servers);
  const authenticator: Authenticator[] = [];
  if (options.nkeySeed !== undefined) authenticator.push(nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed.trim())));
  if (options.credsFile !== undefined) authenticator.push(credsAuthenticator(readSecretFile(options.credsFile, 'creds')));
  const timeout = options.timeoutMs ?? 10_000;
  // nats.js's first connect tries servers until its pool is empty, but each server's INFO adds the
  // cluster's other servers to the pool again: a cluster that takes the TCP connection and then
  // fails the handshake (a client certificate it does not trust) kept the connect pending forever.
  // The client's per-dial hook ends the first connect at a deadline; a dial hook that throws rejects
  // it (documented), and later reconnects are not concerned.
  let connected = false;
  const deadline = Date.now() + timeout * servers.length;
  const connectOptions: NodeConnectionOptions = {
    servers,
    timeout,
    reconnectToServer: () => {
      if (!connected && Date.now() >= deadline) throw new Error(FIRST_CONNECT_DEADLINE);
      return null;
    },
    name: options.name ?? 'episteme',
    // a cluster that refuses us at the first connect does so for a reason a retry does not fix
    waitOnFirstConnect: false,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  if (options.user !== undefined) connectOptions.user = options.user;
  if (options.pass !== undefined) connectOptions.pass = options.pass;
  if (options.token !== undefined) connectOptions.token = options.token;
  if (authenticator.length > 0) connectOptions.authenticator = authenticator;
  if (options.tls !== undefined) {
    connectOptions.tls = {
      ...(options.tls.caFile !== undefined ? { caFile: options.tls.caFile } : {}),
      ...(options.tls.certFile !== undefined ? { certFile: options.tls.certFile } : {}),
      ...(options.tls.keyFile !== undefined ? { keyFile: options.tls.keyFile } : {}),
    };
  }
  try {
    const nc = await connect(connectOptions);
    connected = true;
    return nc;
  } catch (error) {
    throw connectError(error, servers, timeout);
  }
}

const FIRST_CONNECT_DEADLINE = 'no server completed a connection before the deadline';

function checkServers(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.trim() === '')) {
    throw new NatsClusterError(NatsErrorCodes.InvalidArgument, 'servers must be a non-empty list of URLs (nats://host:port)');
  }
  return servers.map((s: string) => s.trim());
}

function readSecretFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new NatsClusterError(NatsErrorCodes.InvalidArgument, `cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The typed error of a failed connect; the servers are named, never the credentials. */
function connectError(error: unknown, servers: string[], timeout: number): NatsClusterError {
  const message = error instanceof Error ? error.message : String(error);
  const where = servers.join(', ');
  if (message.includes(FIRST_CONNECT_DEADLINE)) {
    return new NatsClusterError(
      NatsErrorCodes.Unreachable,
      `no NATS server at ${where} completed a connection within ${timeout} ms each (reached but refused, as a cluster does with a client certificate it does not trust, or not reached)`,
      { cause: error },
    );
  }
  if (error instanceof AuthorizationError || error instanceof UserAuthenticationExpiredError || /authoriz|authentic|nkey|signature/i.test(message)) {
    return new NatsClusterError(NatsErrorCodes.AuthRefused, `the cluster at ${where} refused the credentials (${message})`, { cause: error });
  }
  if (/tls|certificate|ssl|self.signed/i.test(message)) {
    return new NatsClusterError(NatsErrorCodes.TlsFailed, `TLS with ${where} failed (${message})`, { cause: error });
  }
  return new NatsClusterError(NatsErrorCodes.Unreachable, `cannot reach a NATS server at ${where} (${message})`, { cause: error });
}
