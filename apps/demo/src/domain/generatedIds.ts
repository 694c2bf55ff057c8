import { randomFillSync } from 'node:crypto';
import { ASSERTION_STREAM_PREFIX } from './events.js';

/**
 * Assertion ids the app makes (an assertion given without one): random
 * UUIDs (version 4, as `crypto.randomUUID`), each made with its stream's
 * name. Why not `randomUUID()` and `streamOf(id)`: its string is joined
 * from 20 pieces (about 0.6 KB of garbage an id) and the stream's name is
 * another string joined to it; here the names of 256 streams are written as
 * ASCII into one buffer from one draw of random bytes, read out as one
 * string, and each name and id is a slice of it.
 */

const PER_DRAW = 256;
const PREFIX = ASSERTION_STREAM_PREFIX.length;
/** `<prefix>xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` */
const NAME = PREFIX + 36;
const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

const random = Buffer.alloc(16 * PER_DRAW);
const names = Buffer.alloc(NAME * PER_DRAW);
for (let i = 0; i < PER_DRAW; i++) {
  names.write(ASSERTION_STREAM_PREFIX, i * NAME, 'latin1');
  for (const dash of [8, 13, 18, 23]) names[i * NAME + PREFIX + dash] = 0x2d;
}
let drawn = '';
let next = PER_DRAW;

function draw(): void {
  randomFillSync(random);
  for (let i = 0; i < PER_DRAW; i++) {
    const r = i * 16;
    random[r + 6] = (random[r + 6]! & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8]! & 0x3f) | 0x80; // variant 10
    let at = i * NAME + PREFIX;
    for (let k = 0; k < 16; k++) {
      if (k === 4 || k === 6 || k === 8 || k === 10) at++; // a dash
      const b = random[r + k]!;
      names[at] = HEX[b >>> 4]!;
      names[at + 1] = HEX[b & 0xf]!;
      at += 2;
    }
  }
  drawn = names.toString('latin1');
  next = 0;
}

/** A new assertion's id and its stream's name (`streamOf(id)`). */
export interface GeneratedId {
  id: string;
  stream: string;
}

/** The next generated id, with its stream's name; `into` is filled and returned (no object made). */
export function nextGeneratedId(into: GeneratedId): GeneratedId {
  if (next === PER_DRAW) draw();
  const at = next++ * NAME;
  into.stream = drawn.slice(at, at + NAME);
  into.id = drawn.slice(at + PREFIX, at + NAME);
  return into;
}
