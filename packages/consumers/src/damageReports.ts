import type { CorruptCursorError } from './errors.js';

/**
 * What a warning is about, for a logger that filters: a command that is about
 * to reset or delete a damaged cursor drops the warnings about that cursor
 * (they would tell the user to do what the command does) and says itself
 * what it replaced.
 */
export interface WarningAbout {
  /** The consumer whose cursor file the warning says is damaged and left so (not one that reports a repair). */
  damagedCursor?: string;
}

/**
 * The warnings about damaged cursor files that a registry's open check found.
 * Each waits for the end of the current turn (a microtask): a layer above
 * that writes such a file anew in that turn (the projection engine, which
 * registers its projections right after the registry is built) takes the
 * report over and says what it did, so that one damaged file makes one
 * warning, not "reset it" followed by "it was rewritten". The registry cannot
 * tell which layer that is (it knows nothing above it); what nobody takes is
 * warned about as before, with how to get out of it.
 */
export class DamagedCursorReports {
  private readonly pending = new Map<string, CorruptCursorError>();

  constructor(private readonly warn: (message: string, about: WarningAbout) => void) {}

  hold(name: string, err: CorruptCursorError): void {
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    this.pending.set(name, err);
  }

  /** The report still held for `name`, now the caller's to give; undefined when there is none (or it was already given). */
  take(name: string): CorruptCursorError | undefined {
    const err = this.pending.get(name);
    this.pending.delete(name);
    return err;
  }

  private flush(): void {
    for (const [name, err] of this.pending) this.warn(`consumer "${name}": ${err.message}`, { damagedCursor: name });
    this.pending.clear();
  }
}
