import { randomFillSync } from 'node:crypto';

/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits, so generated event ids sort by creation time. Within one
 * millisecond, the 12-bit `rand_a` field counts up from a random start
 * (RFC 9562 §6.2, method 1 in part) so ids of one process stay increasing;
 * when it overflows the clock is borrowed one millisecond ahead. Random
 * bytes come from a pool: one crypto call per 256 ids, not one per id.
 */

const POOL_IDS = 256;
const pool = Buffer.alloc(POOL_IDS * 10);
let poolAt = POOL_IDS * 10;

let lastMs = -1;
let counter = 0;

/** ASCII of the hex digits. */
const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** The next id's milliseconds (into `ms`), counter (into `counter`) and random bytes (at the returned index of `pool`). */
let ms = 0;
function advance(now: number): number {
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += 10;
  ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      ms = lastMs + 1;
      counter = pool[r]! & 0x7ff;
    }
  } else {
    counter = ((pool[r]! << 4) | (pool[r + 1]! >> 4)) & 0x7ff; // start low so a burst has room to count
  }
  lastMs = ms;
  return r;
}

/** A generated id's length: 36 ASCII characters. */
export const UUID_BYTES = 36;

const scratch = Buffer.alloc(UUID_BYTES);

export function uuidv7(now: number = Date.now()): string {
  // written as ASCII and read out as one string: no string per part
  uuidv7Into(scratch, 0, now);
  return scratch.toString('latin1', 0, UUID_BYTES);
}

function hexByte(buf: Uint8Array, at: number, byte: number): void {
  buf[at] = HEX_CODES[byte >>> 4]!;
  buf[at + 1] = HEX_CODES[byte & 0xf]!;
}

/** `uuidv7()` written as its 36 ASCII characters at `buf[at]`: an id made straight into a record, no string (the same sequence of ids). */
export function uuidv7Into(buf: Uint8Array, at: number, now: number = Date.now()): void {
  const r = advance(now);
  const hi = Math.floor(ms / 0x1_0000_0000);
  const lo = ms >>> 0;
  hexByte(buf, at, (hi >>> 8) & 0xff);
  hexByte(buf, at + 2, hi & 0xff);
  hexByte(buf, at + 4, lo >>> 24);
  hexByte(buf, at + 6, (lo >>> 16) & 0xff);
  buf[at + 8] = 0x2d; // -
  hexByte(buf, at + 9, (lo >>> 8) & 0xff);
  hexByte(buf, at + 11, lo & 0xff);
  buf[at + 13] = 0x2d;
  hexByte(buf, at + 14, 0x70 | (counter >>> 8));
  hexByte(buf, at + 16, counter & 0xff);
  buf[at + 18] = 0x2d;
  hexByte(buf, at + 19, 0x80 | (pool[r + 2]! & 0x3f));
  hexByte(buf, at + 21, pool[r + 3]!);
  buf[at + 23] = 0x2d;
  for (let k = 0; k < 6; k++) hexByte(buf, at + 24 + 2 * k, pool[r + 4 + k]!);
}

/** The Unix milliseconds a UUID v7 carries. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
