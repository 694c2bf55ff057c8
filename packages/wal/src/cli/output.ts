import type { RecoveryCut } from '../recovery/report.js';
/**
 * Collects output lines and hands them to stdout in chunks: one write per
 * line would cost a syscall each, and a dump of a large log must not queue
 * all of it in memory when stdout is a slow pipe.
 */
export class OutputBuffer {
  private parts: string[] = [];
  private length = 0;

  constructor(
    private readonly write: (s: string) => void | Promise<void>,
    private readonly highWaterMark = 64 * 1024,
  ) {}

  /**
   * Queues `s`. Returns a promise when the consumer asked us to wait; the
   * caller must await it before pushing more, which is what keeps memory
   * bounded.
   */
  push(s: string): Promise<void> | undefined {
    this.parts.push(s);
    this.length += s.length;
    return this.length >= this.highWaterMark ? this.flush() : undefined;
  }

  flush(): Promise<void> | undefined {
    if (this.length === 0) return undefined;
    const text = this.parts.join('');
    this.parts = [];
    this.length = 0;
    const result = this.write(text);
    return result instanceof Promise ? result : undefined;
  }
}

/** Right-aligned columns; the first column left-aligned (names). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Messages end up on one line whatever they contain (paths with newlines, nested errors). */
export function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * One line for a cut recovery made: where, why, where the bytes went, and
 * whether valid records followed the damage. That points at media
 * corruption, not a torn write, but does not prove it: a power loss can keep
 * later unsynced pages and lose earlier ones (the disk and the kernel's
 * writeback may reorder them), so the words say "likely".
 */
export function describeCut(c: RecoveryCut): string {
  const media = c.wellFormedRecordsInCut > 0 ? ' (valid records follow the damage: likely media corruption rather than a torn write; they are in the quarantine file)' : '';
  return (
    `cut: ${c.segment} at file position ${c.position} (offset ${c.offset}): ${c.reason}; ` +
    `${plural(c.bytes, 'byte')} moved to ${c.quarantine}; ` +
    `${plural(c.wellFormedRecordsInCut, 'well-formed record')} in the cut${media}`
  );
}

/**
 * Thrown by a bin's stdout once the reader of the pipe has gone (`| head`):
 * the command stops at its next output, its cleanup (closing the journal)
 * runs on the way out, and the tool exits 0 without a message. `append`
 * alone carries on without printing: its work is stdin's lines, its output
 * only their offsets.
 */
export class StdoutClosedError extends Error {
  readonly code = 'EPIPE';
  constructor() {
    super('standard output was closed by its reader');
    this.name = 'StdoutClosedError';
  }
}
