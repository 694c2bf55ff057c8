/** A stored cursor that no longer fits the log, and what was done about it. */
export interface CursorClampEvent {
  name: string;
  storedCursor: number;
  clampedTo: number;
  reason: 'cut-by-recovery' | 'beyond-head' | 'below-earliest' | 'not-a-boundary';
  message: string;
}

/** Why a stored cursor no longer fits, in the words of the clamp warnings. */
export function describeClampReason(reason: CursorClampEvent['reason']): string {
  switch (reason) {
    case 'cut-by-recovery':
      return 'is beyond where recovery cut the log (records it had processed are gone)';
    case 'beyond-head':
      return 'is beyond the head';
    case 'below-earliest':
      return 'is below the earliest retained offset (records it had not processed were deleted)';
    case 'not-a-boundary':
      return 'is not a record boundary any more (the log was cut and rewritten)';
  }
}
