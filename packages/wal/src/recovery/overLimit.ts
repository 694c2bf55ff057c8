import { MaxPayloadTooSmallError, ioError } from '../errors.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../format/constants.js';
import { checkRecordChecksums, readU32 } from '../format/record.js';
import { readFully, type FileIO } from '../io/fileIO.js';

/**
 * Called where a scan stopped with `length-over-limit`. A length field
 * that is garbage (a torn or flipped header) makes the CRC fail, since the
 * CRC covers it; a record that is whole and passes both checksums was
 * written under a larger maxPayloadBytes. Cutting it would quarantine
 * acknowledged data because of a configuration change, so this throws
 * MaxPayloadTooSmallError instead, and the caller must change nothing.
 *
 * Reads at most the bytes the file holds: the claimed length is checked
 * against `size` before anything is allocated.
 */
export function refuseValidRecordOverLimit(
  io: FileIO,
  fd: number,
  segment: { name: string; base: number },
  position: number,
  size: number,
  maxPayloadBytes: number,
): void {
  if (position + RECORD_OVERHEAD > size) return;
  const header = new Uint8Array(RECORD_OVERHEAD);
  if (readFully(io, fd, header, 0, RECORD_OVERHEAD, position) < RECORD_OVERHEAD) return;
  const n = readU32(header, 0);
  if (n <= maxPayloadBytes || position + RECORD_OVERHEAD + n > size) return;
  const record = new Uint8Array(RECORD_OVERHEAD + n);
  record.set(header, 0);
  if (readFully(io, fd, record, RECORD_OVERHEAD, n, position + RECORD_OVERHEAD) < n) return;
  if (checkRecordChecksums(record, 0, n) !== null) return;
  throw new MaxPayloadTooSmallError(
    { segment: segment.name, position, offset: segment.base + position - HEADER_SIZE },
    n,
    maxPayloadBytes,
  );
}

/** refuseValidRecordOverLimit on a segment file opened here (recovery and verify hold no descriptor of it). */
export function refuseValidRecordOverLimitIn(io: FileIO, segment: { name: string; base: number; path: string; size: number }, position: number, maxPayloadBytes: number): void {
  let fd: number;
  try {
    fd = io.open(segment.path, 'r');
  } catch (err) {
    throw ioError('opening', segment.path, err);
  }
  try {
    refuseValidRecordOverLimit(io, fd, segment, position, segment.size, maxPayloadBytes);
  } finally {
    io.close(fd);
  }
}
