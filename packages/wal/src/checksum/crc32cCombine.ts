/**
 * CRC32C of a concatenation from the CRCs of its parts, without reading the
 * bytes again (the method of zlib's crc32_combine, for the Castagnoli
 * polynomial). For the conditioned CRC (initial and final XOR 0xFFFFFFFF):
 *
 *   crc(A ‖ B) = shift(crc(A), |B|) ⊕ crc(B)
 *
 * where shift multiplies by x^(8·|B|) modulo the polynomial. It is linear in
 * its CRC argument, which is what lets the writer derive a record's CRC over
 * all its bytes from the CRC stored in it (see crc32cOfRecords).
 */

const POLY = 0x82f63b78;

/** a·b modulo the polynomial, both in the CRC's reflected bit order; `a` must not be 0. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31. */
const X2N = (() => {
  const table = new Uint32Array(32);
  let p = 0x40000000; // x^1
  table[0] = p;
  for (let k = 1; k < 32; k++) table[k] = p = multModP(p, p);
  return table;
})();

/** Recent x^(8·n) values: a writer sees the same few record sizes over and over. */
const powers = new Map<number, number>();
const MAX_CACHED = 256;

/** x^(8·bytes) modulo the polynomial (the factor that shifts a CRC past `bytes` bytes). */
function shiftFor(bytes: number): number {
  let p = powers.get(bytes);
  if (p !== undefined) return p;
  p = 0x80000000; // x^0
  let k = 3;
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
  }
  if (powers.size >= MAX_CACHED) powers.clear();
  powers.set(bytes, p);
  return p;
}

/** `crc` (the CRC of some bytes) as it would be with `bytes` more bytes, all zero, fed through the raw register. */
export function crc32cShift(crc: number, bytes: number): number {
  return multModP(shiftFor(bytes), crc);
}

/** CRC32C of A ‖ B from crc(A), crc(B) and |B|. */
export function crc32cCombine(crcA: number, crcB: number, bytesB: number): number {
  return (crc32cShift(crcA, bytesB) ^ crcB) >>> 0;
}
