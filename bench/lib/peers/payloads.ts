import { randomBytes } from 'node:crypto';

/**
 * Payloads for the peer comparison: windows into one block of random bytes
 * (incompressible, so LevelDB's snappy compression gains nothing and costs
 * little, as with real encrypted or already-compressed events), at a stride
 * that is not a multiple of 8 so that every record differs. Buffers, since
 * better-sqlite3 binds a Buffer as a BLOB and classic-level takes one as is.
 */
export class PayloadPool {
  private readonly pool: Buffer;
  private readonly span: number;
  private i = 0;

  constructor(readonly size: number) {
    this.pool = randomBytes(1024 * 1024 + size);
    this.span = this.pool.length - size;
  }

  /** The payload of the i-th record (the same bytes for every store). */
  at(i: number): Buffer {
    const at = (i * 7919) % this.span;
    return this.pool.subarray(at, at + this.size);
  }

  next(): Buffer {
    return this.at(this.i++);
  }
}

/**
 * JSON events of about `approxBytes` each (a few shapes, varied values),
 * built once: the memory check cycles through them, so generating a 2 GiB
 * log costs encoding and checksums, not JSON.stringify per record.
 */
export function jsonEvents(count: number, approxBytes: number): Buffer[] {
  const types = ['deposited', 'withdrawn', 'transferred', 'opened', 'closed'];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const event = {
      type: types[i % types.length],
      account: `acc-${String((i * 7919) % 100_000).padStart(6, '0')}`,
      amount: (i * 31) % 1000,
      at: 1_790_000_000_000 + i * 1000,
      note: '',
    };
    const base = Buffer.byteLength(JSON.stringify(event));
    event.note = 'x'.repeat(Math.max(0, approxBytes - base - (i % 17)));
    out.push(Buffer.from(JSON.stringify(event)));
  }
  return out;
}
