import type { ScanProgress } from '../recovery/report.js';
import type { CliContext } from './command.js';
import { formatBytes } from './output.js';

/** Redraws at most this often: faster only costs terminal writes. */
const REDRAW_INTERVAL_MS = 100;

/**
 * A single status line on stderr, redrawn in place with `\r`, for scans that
 * take long enough to wonder whether anything is happening. The first draw
 * waits one interval, so a quick scan prints nothing at all.
 */
export class ProgressLine {
  private lastDraw: number;
  private width = 0;

  constructor(
    private readonly write: (s: string) => void,
    private readonly label: string,
    private readonly now: () => number,
    private readonly intervalMs = REDRAW_INTERVAL_MS,
  ) {
    this.lastDraw = now();
  }

  readonly update = (p: ScanProgress): void => {
    const t = this.now();
    if (t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    const pct = p.bytesTotal > 0 ? Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 100)) : 100;
    const text = `${this.label} ${String(pct).padStart(3)}%  ${p.segment}  ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
    // Pad over the previous text: a shorter line would leave its tail visible.
    this.write('\r' + text.padEnd(this.width));
    this.width = Math.max(this.width, text.length);
  };

  /** Erases the line so that the report starts on a clean line. */
  clear(): void {
    if (this.width === 0) return;
    this.write('\r' + ' '.repeat(this.width) + '\r');
    this.width = 0;
  }
}

/**
 * Progress only for a person watching: stderr is a terminal and the output
 * is not JSON meant for a program. Returns undefined otherwise.
 */
export function progressFor(ctx: CliContext, label: string, json: boolean): ProgressLine | undefined {
  if (!ctx.stderrIsTTY || json) return undefined;
  return new ProgressLine((s) => ctx.err(s), label, ctx.now);
}
