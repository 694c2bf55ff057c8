/**
 * Segment file names: the base offset as 16 lowercase hex digits + `.wal`, so
 * that sorting names sorts the log. Formatter and parser live together.
 */

const SEGMENT_NAME = /^[0-9a-f]{16}\.wal$/;

export function segmentName(baseOffset: number): string {
  return baseOffset.toString(16).padStart(16, '0') + '.wal';
}

/** The base offset a file name encodes, or undefined when it is not a segment name. */
export function parseSegmentName(name: string): number | undefined {
  if (!SEGMENT_NAME.test(name)) return undefined;
  const base = Number.parseInt(name.slice(0, 16), 16);
  // 16 hex digits can exceed 2^53; such a name cannot belong to a valid log.
  return Number.isSafeInteger(base) ? base : undefined;
}

export function isSegmentName(name: string): boolean {
  return SEGMENT_NAME.test(name);
}

/** `<segment base hex>.<file position hex>.<unix ms>.bin` (FORMAT.md, Recovery). */
export function quarantineName(baseOffset: number, position: number, unixMs: number): string {
  return `${baseOffset.toString(16).padStart(16, '0')}.${position.toString(16).padStart(16, '0')}.${unixMs}.bin`;
}
