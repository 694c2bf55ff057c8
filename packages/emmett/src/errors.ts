import { EpistemeError, isEpistemeError, type ErrorCategory } from '@episteme/wal';

/**
 * Errors of @episteme/emmett's own checks: an EpistemeError with a stable
 * `code`. What Emmett's contract says is thrown stays Emmett's: a version
 * conflict is Emmett's ExpectedVersionConflictError, so that
 * `isExpectedVersionConflictError` and CommandHandler's retries see it.
 * The store's errors (`STORE_*`) and the journal's (`WAL_*`) pass through.
 */
export const EmmettAdapterErrorCodes = {
  /** A bad option or argument (an unknown expected version, a negative range, no dir); nothing was opened or written. */
  InvalidArgument: 'EMMETT_INVALID_ARGUMENT',
  /** The consumer needs durable cursors the given store does not offer (an EventStore other than a local one). */
  ConsumerUnsupported: 'EMMETT_CONSUMER_UNSUPPORTED',
  /** A consumer started without a processor, or used after close. */
  ConsumerState: 'EMMETT_CONSUMER_STATE',
  /** An optional peer package the options ask for is not installed (`@episteme/nats` for `{ nats }`); nothing was opened. */
  PeerMissing: 'EMMETT_PEER_MISSING',
} as const;

export type EmmettAdapterErrorCode = (typeof EmmettAdapterErrorCodes)[keyof typeof EmmettAdapterErrorCodes];

const CATEGORY: Readonly<Record<EmmettAdapterErrorCode, ErrorCategory>> = {
  EMMETT_INVALID_ARGUMENT: 'invalid-input',
  EMMETT_CONSUMER_UNSUPPORTED: 'state',
  EMMETT_CONSUMER_STATE: 'state',
  EMMETT_PEER_MISSING: 'invalid-input',
};

export class EmmettAdapterError extends EpistemeError<EmmettAdapterErrorCode> {
  constructor(code: EmmettAdapterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, CATEGORY[code], message, options);
  }
}

/** An EpistemeError of this package (an `EMMETT_*` code), and when `code` is given, of that code. */
export function isEmmettAdapterError(err: unknown, code?: EmmettAdapterErrorCode): err is EmmettAdapterError {
  return isEpistemeError(err, code) && err.code.startsWith('EMMETT_');
}

export class EmmettInvalidArgumentError extends EmmettAdapterError {
  constructor(message: string) {
    super(EmmettAdapterErrorCodes.InvalidArgument, message);
  }
}
