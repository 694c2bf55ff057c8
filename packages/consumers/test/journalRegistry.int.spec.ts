import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, transientReadBuffer } from '@episteme/wal';
import { InMemoryLog } from '@episteme/wal/testing';
import { CONSUMERS_DIR, ConsumerErrorCodes, ConsumerRegistry, FileCursorStore, isConsumerError, runConsumer } from '../src/index.js';
import { journalWith, quiet, thrown, track } from './helpers.js';

/** Larger than any Linux pid_max (2^22): never a live process. */
const DEAD_PID = 4_194_305;

describe('the ways to build a registry', () => {
  it('over a journal\'s writer: cursor files in its directory, and it deletes through the journal', async () => {
    const journal = await journalWith(200, { maxSegmentBytes: 512 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    expect(registry.log).toBe(journal);
    expect(registry.retention).toBe(journal);
    expect(registry.store).toBeInstanceOf(FileCursorStore);
    expect((registry.store as FileCursorStore).dir).toBe(join(journal.dir, CONSUMERS_DIR));
    registry.register('c');
    registry.commit('c', journal.head);
    expect(journal.earliest).toBeGreaterThan(0);
  });

  it('over a reader: the same cursor files, no Retention, and its cleanup deletes nothing', async () => {
    const journal = await journalWith(200, { maxSegmentBytes: 512 });
    ConsumerRegistry.forJournal(journal, { logger: quiet }).register('c');
    const reader = track(await Journal.openForRead({ dir: journal.dir }));
    const registry = ConsumerRegistry.forJournal(reader, { logger: quiet });
    expect(registry.retention).toBeUndefined();
    expect(registry.list().map((c) => c.name)).toEqual(['c']);
    registry.commit('c', reader.head);
    expect(registry.cleanup()).toEqual([]);
    expect(journal.earliest).toBe(0);
  });

  it('a reader\'s leaves the temp files of crashed commits to the writer, which removes them once per open', async () => {
    const journal = await journalWith(3);
    const store = new FileCursorStore(journal.dir);
    store.write({ name: 'c', cursor: 0, committedAt: new Date().toISOString(), state: 'registered' });
    const stale = `c.cursor.${DEAD_PID}.0a1b.tmp`;
    writeFileSync(join(store.dir, stale), 'torn');
    const reader = track(await Journal.openForRead({ dir: journal.dir }));
    ConsumerRegistry.forJournal(reader, { logger: quiet });
    expect(readdirSync(store.dir)).toContain(stale);
    const info: string[] = [];
    ConsumerRegistry.forJournal(journal, { logger: { warn: () => undefined, info: (m) => info.push(m) } });
    expect(readdirSync(store.dir)).not.toContain(stale);
    expect(info).toEqual(['removed 1 temp file(s) left by crashed cursor commits']);
    // once per open: a later registry on the same journal does not look again
    writeFileSync(join(store.dir, stale), 'torn');
    ConsumerRegistry.forJournal(journal, { logger: quiet });
    expect(readdirSync(store.dir)).toContain(stale);
  });

  it('over any log, from explicit parts', async () => {
    const log = new InMemoryLog();
    await log.appendBatch([Buffer.from('a'), Buffer.from('b')]);
    const registry = new ConsumerRegistry({ log, cursors: log.cursors, retention: log }, { logger: quiet });
    registry.register('c');
    expect(registry.commit('c', 2).cursor).toBe(2);
    expect(log.cursors.read('c')!.cursor).toBe(2);
  });

  it('refuses what is not its parts with a typed error, naming the way in (a journal given to the constructor, as before)', async () => {
    const journal = await journalWith(1);
    const log = new InMemoryLog();
    for (const [what, build] of [
      ['a journal', () => new ConsumerRegistry(journal as never)],
      ['nothing', () => new ConsumerRegistry(undefined as never)],
      ['no cursors', () => new ConsumerRegistry({ log } as never)],
      ['a retention without deleteBelow', () => new ConsumerRegistry({ log, cursors: log.cursors, retention: {} as never })],
      ['forJournal of another log', () => ConsumerRegistry.forJournal(log as unknown as Journal)],
      ['forJournal of nothing', () => ConsumerRegistry.forJournal(undefined as unknown as Journal)],
    ] as const) {
      const err = thrown(build);
      expect(isConsumerError(err, ConsumerErrorCodes.InvalidArgument), `${what}: ${String(err)}`).toBe(true);
    }
    expect((thrown(() => new ConsumerRegistry(journal as never)) as Error).message).toContain('ConsumerRegistry.forJournal');
    expect(log.cursors.names()).toEqual([]);
  });
});

describe('transientRecords', () => {
  it('hands every record once, in order, with its own bytes during its call and its promise, over buffer refills and segments', async () => {
    // 3 KiB records in 1 MiB segments: the reader's 256 KiB buffer is read over many times
    const journal = await journalWith(600, { maxSegmentBytes: 1 << 20, size: 3000 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('t');
    const seen: string[] = [];
    let kept: Uint8Array | undefined;
    const result = await runConsumer(registry, 't', {
      transientRecords: true,
      batchSize: 100,
      stopAtHead: true,
      handler: async (r) => {
        kept ??= r.payload;
        const before = Buffer.from(r.payload).toString();
        await new Promise((resolve) => setImmediate(resolve));
        // still its bytes while its promise runs
        expect(Buffer.from(r.payload).toString()).toBe(before);
        seen.push(before.slice(0, before.indexOf('.')));
      },
    });
    expect(result).toMatchObject({ state: 'stopped', handled: 600, cursor: journal.head });
    expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => `event-${i}-`));
    // what the documentation says: a record kept past its call is read over
    expect(Buffer.from(kept!).toString().startsWith('event-0-')).toBe(false);
  });

  it('keeps its batch while another reader of the same handle reads transient records during the handler\'s awaits', async () => {
    // a projection engine in the same process reads with transient: true between the handler's steps;
    // when the runner shared the handle's buffer, that read wrote over the batch the runner still held
    const journal = await journalWith(600, { maxSegmentBytes: 1 << 20, size: 3000 });
    const registry = ConsumerRegistry.forJournal(journal, { logger: quiet });
    registry.register('t');
    const seen: string[] = [];
    let otherReads = 0;
    const result = await runConsumer(registry, 't', {
      transientRecords: true,
      batchSize: 100,
      stopAtHead: true,
      handler: async (r) => {
        const before = Buffer.from(r.payload).toString();
        const other = journal.readMany(journal.earliest, 50, { transient: true }); // from the start, not where the runner is
        otherReads += other.length;
        await new Promise((resolve) => setImmediate(resolve));
        expect(Buffer.from(r.payload).toString()).toBe(before);
        seen.push(before.slice(0, before.indexOf('.')));
      },
    });
    expect(result).toMatchObject({ state: 'stopped', handled: 600, cursor: journal.head });
    expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => `event-${i}-`));
    expect(otherReads).toBeGreaterThan(600);
  });

  it('refuses a transient option that is not true, false or a buffer from transientReadBuffer()', async () => {
    const journal = await journalWith(5);
    for (const bad of [{}, 'yes', 1]) {
      expect(thrown(() => journal.readMany(0, 5, { transient: bad as never }))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
    }
    expect(journal.readMany(0, 5, { transient: transientReadBuffer() })).toHaveLength(5);
  });
});
