import { describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { InMemorySnapshotStore, jsonCodec, ProjectionEngine, type EventCodec, type Projection } from '../src/index.js';
import { later, quiet, tempDir } from './helpers.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

interface Seen {
  events: unknown[];
  digests: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function collecting(codec?: EventCodec<unknown>): Projection<Seen, unknown> {
  return {
    name: 'seen',
    version: 1,
    initialState: () => ({ events: [], digests: [] }),
    apply: (s, e, meta) => {
      s.events.push(e);
      s.digests.push(hex(meta.blake3));
      return s;
    },
    ...(codec ? { codec } : {}),
  };
}

/** The state after a rebuild, and the content addresses the journal stores for the payloads. */
async function rebuildWith(payloads: Uint8Array[], codec?: EventCodec<unknown>): Promise<Seen & { stored: string[] }> {
  const journal = await Journal.open({ dir: tempDir(), durability: 'none', maxSegmentBytes: 1024 });
  later(() => journal.close());
  await journal.appendBatch(payloads);
  const engine = new ProjectionEngine({ journal, store: new InMemorySnapshotStore(), logger: quiet });
  engine.register(collecting(codec));
  await engine.rebuild('seen');
  return { ...engine.query<Seen>('seen').state, stored: journal.readMany(0, payloads.length).map((r) => hex(r.blake3)) };
}

describe('event codecs', () => {
  it('a codec with decodeText gets the payload as text from the journal, and decode is not called', async () => {
    const codec: EventCodec<unknown> = {
      decode: () => {
        throw new Error('decode must not be called when decodeText is given');
      },
      encode: (e) => utf8(String(e)),
      decodeText: (text) => `<${text}>`,
    };
    const payloads = ['a', 'héllo', '', '\u{1f600}'.repeat(100)].map(utf8);
    const seen = await rebuildWith(payloads, codec);
    expect(seen.events).toEqual(['<a>', '<héllo>', '<>', `<${'\u{1f600}'.repeat(100)}>`]);
    // meta is the record: its content address, as the journal stores it
    expect(seen.digests).toEqual(seen.stored);
    expect(new Set(seen.digests).size).toBe(payloads.length);
  });

  it('a codec without decodeText gets the payload bytes', async () => {
    const codec: EventCodec<unknown> = { decode: (p) => Array.from(p), encode: () => new Uint8Array(0) };
    const seen = await rebuildWith([Uint8Array.from([1, 2, 255]), new Uint8Array(0)], codec);
    expect(seen.events).toEqual([[1, 2, 255], []]);
  });

  it('the JSON codec decodes text as it decodes bytes: non-ASCII, a byte order mark, escapes', async () => {
    const texts = ['{"n":"héllo \u{1f600}"}', '\ufeff{"bom":true}', '[1,"\\u0041",null]', '"plain"'];
    const payloads = texts.map(utf8);
    const seen = await rebuildWith(payloads);
    expect(seen.events).toEqual(payloads.map((p) => jsonCodec.decode(p)));
    expect(seen.events).toEqual(payloads.map((p) => jsonCodec.decodeText!(new TextDecoder().decode(p))));
    expect(seen.events[1]).toEqual({ bom: true });
  });
});
