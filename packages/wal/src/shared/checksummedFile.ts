import { crc32cJs } from '../checksum/crc32cTable.js';

/**
 * The checksum every small checksummed file of Episteme writes (recovery
 * point, cursor slots, snapshots): CRC32C as 8 lower-case hex digits. The
 * table-driven JS CRC, not the native one: these files are small, and their
 * bytes must not depend on which implementation is loaded.
 */
export function crc32cHex(bytes: Uint8Array): string {
  return crc32cJs(bytes).toString(16).padStart(8, '0');
}

/**
 * The envelope of a checksummed file: one header line of space-separated
 * words, `[<magic...>] [<body length>] <crc32c hex>`, then the body. The
 * recovery point uses it bare (`<crc>\n<json>`), a snapshot with its magic
 * and the length (`episteme-snapshot v1 <length> <crc>\n<json>`). A cursor
 * file does not: its checksum sits inside each slot's JSON line.
 */
export interface EnvelopeLayout {
  /** Leading words naming the format and its version, or none. */
  readonly magic?: string;
  /** Whether the header states the body's length, so that a cut body is told from a damaged one. */
  readonly length: boolean;
  /** What the file is, for the reason a damaged one gives ("not a <kind>"). */
  readonly kind: string;
}

/** A header longer than this is not one: a file without a newline this early is damaged. */
const MAX_HEADER = 100;

export function sealEnvelope(layout: EnvelopeLayout, body: Uint8Array): Buffer {
  const words = [...(layout.magic ? [layout.magic] : []), ...(layout.length ? [String(body.length)] : []), crc32cHex(body)];
  return Buffer.concat([Buffer.from(`${words.join(' ')}\n`), body]);
}

/** The body of a sealed file, or why the bytes are not one (a reason for a message, never a guess at the body). */
export function openEnvelope(layout: EnvelopeLayout, bytes: Uint8Array): { body: Buffer } | { damage: string } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = buf.indexOf(10);
  if (nl < 0 || nl > MAX_HEADER) return { damage: 'no header line' };
  const header = buf.subarray(0, nl).toString('latin1').split(' ');
  const magicWords = layout.magic ? layout.magic.split(' ').length : 0;
  if (header.length !== magicWords + (layout.length ? 1 : 0) + 1 || (layout.magic !== undefined && header.slice(0, magicWords).join(' ') !== layout.magic)) {
    return { damage: `not a ${layout.kind}` };
  }
  const body = buf.subarray(nl + 1);
  if (layout.length) {
    const stated = header[magicWords]!;
    const length = Number(stated);
    if (!Number.isSafeInteger(length) || body.length !== length) return { damage: `body is ${body.length} bytes, header says ${stated}` };
  }
  const stored = header[header.length - 1]!;
  const crc = crc32cHex(body);
  if (crc !== stored) return { damage: `checksum mismatch (stored ${stored}, computed ${crc})` };
  return { body };
}
