// the light entry: the import workers load this module, and need not load the log for an error class
import { EpistemeError } from '@episteme/wal/errors';

export interface FailedConstraint {
  property: string;
  /** Constraint name to message, as class-validator reports them. */
  constraints: Record<string, string>;
  value?: unknown;
}

/** Input that failed validation; lists every failed constraint. Nothing was appended. */
export class ValidationFailedError extends EpistemeError<'APP_VALIDATION_FAILED'> {
  constructor(readonly what: string, readonly failures: FailedConstraint[]) {
    super('APP_VALIDATION_FAILED', 'invalid-input', `invalid ${what}: ${failures.map((f) => Object.values(f.constraints).join(', ')).join('; ')}`);
  }
}
