import { RECORD_OVERHEAD } from '../format/constants.js';
import { checksums } from '../checksum/index.js';
import { encodeRecordButCrcInto, encodeRecordInto } from '../format/record.js';
import type { Appended } from '../log/appended.js';
import type { PendingAppend } from './writerQueue.js';

/**
 * Encodes the records of `batch` back to back into `buf` from 0, the batch
 * starting at global offset `base`, and sets each entry's `result`; returns
 * the bytes used. One Appended per record and no read back: the digest is
 * the one just computed for the record's header.
 */
export function encodeBatch(batch: PendingAppend[], buf: Uint8Array, base: number): number {
  // with the native part, the batch's CRC32Cs are written in one call at the end, three records side by side
  const fill = checksums().fillRecordCrcs;
  const encode = fill === undefined ? encodeRecordInto : encodeRecordButCrcInto;
  let pos = 0;
  for (const e of batch) {
    if (e.single) {
      const start = pos;
      pos = encode(e.payloads[0]!, buf, pos);
      e.result = appendedAt(buf, start, pos, base);
    } else {
      const out = new Array<Appended>(e.payloads.length);
      for (let i = 0; i < out.length; i++) {
        const start = pos;
        pos = encode(e.payloads[i]!, buf, pos);
        out[i] = appendedAt(buf, start, pos, base);
      }
      e.result = out;
    }
  }
  if (fill !== undefined && fill(buf, 0, pos) !== pos) throw new Error(`internal: the CRC32Cs of a batch of ${pos} bytes were not all written`);
  return pos;
}

/**
 * The record encoded in `buf` from `start` to `end`. Its digest is copied
 * out now: the buffer is the next batch's once this one is written, while
 * this one may still wait for its sync (32 bytes: a small on-heap array).
 */
function appendedAt(buf: Uint8Array, start: number, end: number, base: number): Appended {
  return { offset: base + start, next: base + end, blake3: buf.slice(start + 8, start + RECORD_OVERHEAD) };
}
