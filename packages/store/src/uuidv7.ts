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
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let lastMs = -1;
let counter = 0;

export function uuidv7(now: number = Date.now()): string {
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += 10;
  let ms = now;
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
  const b = new Array<string>(16);
  const hi = Math.floor(ms / 0x1_0000_0000);
  const lo = ms >>> 0;
  b[0] = HEX[(hi >>> 8) & 0xff]!;
  b[1] = HEX[hi & 0xff]!;
  b[2] = HEX[lo >>> 24]!;
  b[3] = HEX[(lo >>> 16) & 0xff]!;
  b[4] = HEX[(lo >>> 8) & 0xff]!;
  b[5] = HEX[lo & 0xff]!;
  b[6] = HEX[0x70 | (counter >>> 8)]!;
  b[7] = HEX[counter & 0xff]!;
  b[8] = HEX[0x80 | (pool[r + 2]! & 0x3f)]!;
  for (let i = 9; i < 16; i++) b[i] = HEX[pool[r + i - 6]!]!;
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
}

/** The Unix milliseconds a UUID v7 carries. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
