import { EpistemeError, isEpistemeError, type ErrorCategory } from '@episteme/wal';

/**
 * Every error @episteme/nats throws is a NatsClusterError (an EpistemeError)
 * with a stable `code` and a `category`.
 */
export const NatsErrorCodes = {
  /** Bad options or arguments (no servers, a bad stream name, ...). */
  InvalidArgument: 'NATS_INVALID_ARGUMENT',
  /** No server of the cluster could be reached before the deadline. */
  Unreachable: 'NATS_UNREACHABLE',
  /** The cluster refused the credentials (authorization violation, bad NKey, expired JWT). */
  AuthRefused: 'NATS_AUTH_REFUSED',
  /** The TLS handshake failed (unknown CA, wrong host name, TLS required). */
  TlsFailed: 'NATS_TLS_FAILED',
  /** The stream exists with another subject layout than the one asked for. */
  StreamLayout: 'NATS_STREAM_LAYOUT',
  /** A message in the stream lacks Episteme's headers or they do not parse: not a stream we wrote. */
  ForeignMessage: 'NATS_FOREIGN_MESSAGE',
  /** The stream holds records the journal does not have (another journal, or a journal cut by recovery). */
  StreamAhead: 'NATS_STREAM_AHEAD',
  /** What was asked for was deleted: journal records a relay did not ship, or stream sequences purged below a cursor. */
  HistoryDeleted: 'NATS_HISTORY_DELETED',
  /** The cluster kept failing with transient errors (no leader, no responders) until the deadline. */
  Unavailable: 'NATS_UNAVAILABLE',
  /** JetStream refused a publish for a reason a retry does not fix (limits, permissions); the description says which. */
  PublishRefused: 'NATS_PUBLISH_REFUSED',
  /** A compare-and-set on a cursor lost: another runner committed this consumer's cursor. */
  CursorFenced: 'NATS_CURSOR_FENCED',
  /** The handle was closed. */
  Closed: 'NATS_CLOSED',
} as const;

export type NatsErrorCode = (typeof NatsErrorCodes)[keyof typeof NatsErrorCodes];

const NatsErrorCategories: Readonly<Record<NatsErrorCode, ErrorCategory>> = {
  NATS_INVALID_ARGUMENT: 'invalid-input',
  NATS_UNREACHABLE: 'io',
  NATS_AUTH_REFUSED: 'invalid-input',
  NATS_TLS_FAILED: 'io',
  NATS_STREAM_LAYOUT: 'invalid-input',
  NATS_FOREIGN_MESSAGE: 'corrupt',
  NATS_STREAM_AHEAD: 'state',
  NATS_HISTORY_DELETED: 'state',
  NATS_UNAVAILABLE: 'io',
  NATS_PUBLISH_REFUSED: 'state',
  NATS_CURSOR_FENCED: 'conflict',
  NATS_CLOSED: 'state',
};

export class NatsClusterError extends EpistemeError<NatsErrorCode> {
  constructor(code: NatsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, NatsErrorCategories[code], message, options);
  }
}

/** An EpistemeError of this package (a `NATS_*` code), and when `code` is given, of that code. */
export function isNatsClusterError(err: unknown, code?: NatsErrorCode): err is NatsClusterError {
  return isEpistemeError(err, code) && err.code.startsWith('NATS_');
}
