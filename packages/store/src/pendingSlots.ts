/**
 * The streams that have writes reserved by the fast path of
 * `appendEncoded` and not yet settled, by their stream index slot: the
 * gathered wave that carries them (its number; 0 when none) and the
 * stream's version once they are in. Typed arrays, not a lane object and a
 * Map entry per stream: an import reserves a new stream per line, and the
 * lanes' Map grew and shrank by a thousand entries a batch.
 */
export class PendingSlots {
  private wave = new Int32Array(1024);
  private version = new Float64Array(1024);

  /** The wave carrying writes of the slot's stream, or 0. */
  waveOf(slot: number): number {
    return slot < this.wave.length ? this.wave[slot]! : 0;
  }

  /** The stream's version once the writes of `waveOf(slot)` are in. */
  versionOf(slot: number): number {
    return this.version[slot]!;
  }

  /** The slot's stream has a write in `wave`, leaving it at `version`. */
  take(slot: number, wave: number, version: number): void {
    if (slot >= this.wave.length) this.grow(slot + 1);
    this.wave[slot] = wave;
    this.version[slot] = version;
  }

  /** The writes of the slot's stream settled (written or failed). */
  release(slot: number): void {
    this.wave[slot] = 0;
  }

  private grow(need: number): void {
    const n = Math.max(need, this.wave.length * 2);
    const wave = new Int32Array(n);
    wave.set(this.wave);
    this.wave = wave;
    const version = new Float64Array(n);
    version.set(this.version);
    this.version = version;
  }
}
