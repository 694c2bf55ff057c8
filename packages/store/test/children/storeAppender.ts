/**
 * Child process for the store's crash tests: several appenders commit 1-50
 * events at a time to a few streams, half with an expected version, and
 * now and then retry their last commit. Each commit is announced before the
 * call (`try`) and reported only after it resolved (`ack`), with write(2),
 * so a reported line was acknowledged before any SIGKILL can land.
 * argv: <dir> <appenders> <groupCommit 0|1> <tag> <seed>
 */
import { writeLineSync } from '@episteme/wal/testing';
import { isStoreError, openEventStore } from '../../src/index.js';
import { eventsOf, STREAMS } from './commitShape.js';

const [dir, appenders, group, tag, seed] = process.argv.slice(2);
const store = await openEventStore({ dir: dir!, groupCommit: group === '1', checkpointEvery: 25, maxSegmentBytes: 256 * 1024 });
writeLineSync(`ready ${store.openStats.source} ${store.openStats.recordsReplayed}`);

let state = Number(seed) >>> 0;
const rnd = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

await Promise.all(
  Array.from({ length: Number(appenders) }, async (_, a) => {
    let last: { name: string; stream: string; count: number; expected: string } | undefined;
    for (let i = 0; ; i++) {
      if (last && rnd() < 0.1) {
        const expected = last.expected === 'any' ? 'any' : Number(last.expected);
        const r = await store.appendToStream(last.stream, eventsOf(last.name, last.count), { expectedVersion: expected });
        writeLineSync(`${r.alreadyAppended ? 'retry-ok' : 'retry-bad'} ${last.name}`);
        continue;
      }
      const stream = STREAMS[Math.floor(rnd() * STREAMS.length)]!;
      const count = 1 + Math.floor(rnd() * 50);
      const name = `${tag}-a${a}-i${i}`;
      const expected = rnd() < 0.5 ? 'any' : String((await store.readStream(stream, { maxCount: 0 })).currentVersion);
      writeLineSync(`try ${name} ${stream} ${count} ${expected}`);
      try {
        const r = await store.appendToStream(stream, eventsOf(name, count), { expectedVersion: expected === 'any' ? 'any' : Number(expected) });
        writeLineSync(`ack ${name} ${r.nextExpectedVersion} ${r.globalPosition}`);
        last = { name, stream, count, expected };
      } catch (err) {
        if (!isStoreError(err, 'STORE_VERSION_CONFLICT')) throw err;
        writeLineSync(`conflict ${name}`);
      }
    }
  }),
);
