/**
 * Child process for appendEach's crash test: calls appendEach over and over
 * with 20-80 commits of 1-8 events each, to many streams, half with the
 * expected version it last saw and the rest 'any' (so some conflict). Each
 * commit is announced before the call (`try`, with write(2)), and its
 * outcome reported only after the call resolved (`ack` with the version and
 * global position, or `conflict`), so a reported ack was acknowledged before
 * any SIGKILL can land. With `encoded`, the commits go through an
 * EncodedCommitsBuilder and appendEncoded, their events without ids (the
 * store makes them): each event's type names it instead (encodedEventsOf).
 * argv: <dir> <tag> <seed> [each|encoded]
 */
import { writeLineSync } from '@episteme/wal/testing';
import { EncodedCommitsBuilder, isStoreError, openEventStore, type StreamCommit } from '../../src/index.js';
import { encodedEventsOf, eventsOf } from './commitShape.js';

const [dir, tag, seed, mode = 'each'] = process.argv.slice(2);
const store = await openEventStore({ dir: dir!, groupCommit: true, checkpointEvery: 200, maxSegmentBytes: 256 * 1024 });
writeLineSync(`ready ${store.openStats.source}`);

let state = Number(seed) >>> 0;
const rnd = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const STREAMS = 40;
for (let call = 0; ; call++) {
  const commits: StreamCommit[] = [];
  const names: string[] = [];
  const size = 20 + Math.floor(rnd() * 60);
  for (let i = 0; i < size; i++) {
    const stream = `each-${Math.floor(rnd() * STREAMS)}`;
    const count = 1 + Math.floor(rnd() * 8);
    const name = `${tag}-c${call}-i${i}`;
    const expected = rnd() < 0.5 ? 'any' : (await store.readStream(stream, { maxCount: 0 })).currentVersion;
    writeLineSync(`try ${name} ${stream} ${count} ${expected}`);
    commits.push({ stream, events: mode === 'encoded' ? encodedEventsOf(name, count) : eventsOf(name, count), expectedVersion: expected });
    names.push(name);
  }
  if (mode === 'encoded') {
    const builder = new EncodedCommitsBuilder(store.maxPayloadBytes);
    for (const c of commits) builder.add(c.stream, c.events, c.expectedVersion);
    const { versions, positions, refused } = await store.appendEncoded(builder.take());
    names.forEach((name, i) => {
      const reason = refused.get(i);
      if (reason === undefined) writeLineSync(`ack ${name} ${versions[i]} ${positions[i]}`);
      else if (isStoreError(reason, 'STORE_VERSION_CONFLICT')) writeLineSync(`conflict ${name}`);
      else throw reason;
    });
    continue;
  }
  const outcomes = await store.appendEach(commits);
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') writeLineSync(`ack ${names[i]} ${o.value.nextExpectedVersion} ${o.value.globalPosition}`);
    else if (isStoreError(o.reason, 'STORE_VERSION_CONFLICT')) writeLineSync(`conflict ${names[i]}`);
    else throw o.reason;
  });
}
