import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConsumerErrorCodes, isConsumerError, runConsumer, type RunOptions } from '../../src/index.js';
import { quiet, rejected, thrown } from '../helpers.js';
import { LOGS } from './subjects.js';

const TIMER_OVERFLOW = 2 ** 31; // Node runs a timer this long (or longer) after 1 ms
/** Larger than any Linux pid_max (2^22): never a live process. */
const DEAD_PID = 4_194_305;
const noop = (): void => undefined;

function expectInvalidArgument(err: unknown, what: string): void {
  expect(isConsumerError(err, ConsumerErrorCodes.InvalidArgument), `${what}: ${String(err)}`).toBe(true);
}

describe.each(LOGS)('ConsumerRegistry administration over $kind', (logs) => {
  it('registers idempotently from earliest, latest or an offset, and lists cursor, head, lag and state', async () => {
    const h = await logs.create({ count: 50 });
    const { log } = h;
    const registry = h.registry({ logger: quiet });
    const a = registry.register('indexer');
    expect(a.cursor).toBe(0);
    registry.commit('indexer', log.readMany(0, 10)[9]!.next);
    expect(registry.register('indexer', { startFrom: 'latest' }).cursor).toBe(log.readMany(0, 10)[9]!.next);
    expect(registry.register('notifier', { startFrom: 'latest' }).cursor).toBe(log.head);
    const third = log.readMany(0, 3)[2]!.offset;
    expect(registry.register('exporter', { startFrom: third }).cursor).toBe(third);
    const list = registry.list();
    expect(list.map((c) => c.name)).toEqual(['exporter', 'indexer', 'notifier']);
    const indexer = list.find((c) => c.name === 'indexer')!;
    expect(indexer).toMatchObject({ head: log.head, lagRecords: 40, state: 'registered' });
    expect(indexer.lagBytes).toBe(log.head - indexer.cursor);
    expect(list.find((c) => c.name === 'notifier')).toMatchObject({ lagBytes: 0, lagRecords: 0 });
    expect(list.find((c) => c.name === 'exporter')!.lagRecords).toBe(48);
    expect(Date.parse(indexer.lastCommitAt)).not.toBeNaN();
  });

  it('resets to earliest, latest or an offset, and deletes', async () => {
    const h = await logs.create({ count: 20 });
    const registry = h.registry({ logger: quiet });
    registry.register('c', { startFrom: 'latest' });
    expect(registry.reset('c', 'earliest').cursor).toBe(h.log.earliest);
    expect(registry.reset('c', 'latest').cursor).toBe(h.log.head);
    const fifth = h.log.readMany(0, 5)[4]!.offset;
    expect(registry.reset('c', fifth).cursor).toBe(fifth);
    registry.delete('c');
    expect(registry.list()).toEqual([]);
    expect(isConsumerError(thrown(() => registry.get('c')), ConsumerErrorCodes.NotFound)).toBe(true);
  });

  it('refuses a commit that moves a cursor backwards unless it is an explicit reset', async () => {
    const h = await logs.create({ count: 20 });
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    const tenth = h.log.readMany(0, 10)[9]!.offset;
    registry.commit('c', tenth);
    const err = thrown(() => registry.commit('c', 0));
    expect(isConsumerError(err, ConsumerErrorCodes.CursorBackwards)).toBe(true);
    expect(registry.get('c').cursor).toBe(tenth);
    expect(registry.reset('c', 0).cursor).toBe(0);
  });

  it('rejects every invalid name with a typed error and changes nothing', async () => {
    const h = await logs.create({ count: 5 });
    const registry = h.registry({ logger: quiet });
    registry.register('ok');
    const before = h.image();
    const bad: unknown[] = ['../x', '/etc/passwd', '', 'a\0b', '.hidden', 'a/b', 'a\\b', 'x'.repeat(65), 'sp ace', '..', 42, undefined];
    for (const name of bad) {
      for (const op of [
        () => registry.register(name as string),
        () => registry.get(name as string),
        () => registry.commit(name as string, 0),
        () => registry.reset(name as string, 'earliest'),
        () => registry.delete(name as string),
      ]) {
        const err = thrown(op);
        expect(isConsumerError(err, ConsumerErrorCodes.InvalidName), `${JSON.stringify(name)}: ${String(err)}`).toBe(true);
      }
    }
    expect(h.image()).toEqual(before);
  });

  it('rejects every invalid offset with a typed error and changes nothing', async () => {
    const h = await logs.create({ count: 30, perUnit: 6 });
    const { log } = h;
    const registry = h.registry({ logger: quiet, autoCleanup: false });
    registry.register('c');
    registry.register('d');
    registry.commit('d', log.readMany(0, 20)[19]!.offset);
    registry.cleanup();
    expect(log.earliest).toBe(0); // c holds the log
    registry.delete('c');
    registry.cleanup();
    expect(log.earliest).toBeGreaterThan(0);
    const before = h.image();
    const badOffsets: unknown[] = [-1, 1.5, Number.NaN, '12', log.head + 1, 3, log.earliest - 1, 0];
    for (const offset of badOffsets) {
      const resetErr = thrown(() => registry.reset('d', offset as number));
      expect(isConsumerError(resetErr), `reset ${String(offset)}: ${String(resetErr)}`).toBe(true);
      const registerErr = thrown(() => registry.register('e', { startFrom: offset as number }));
      expect(isConsumerError(registerErr), `register ${String(offset)}: ${String(registerErr)}`).toBe(true);
    }
    const below = thrown(() => registry.reset('d', 0)) as Error;
    expect(below.message).toContain('below the earliest retained offset');
    expect(isConsumerError(thrown(() => registry.commit('d', log.head + 1)), ConsumerErrorCodes.InvalidCursor)).toBe(true);
    expect(h.image()).toEqual(before);
  });

  it('accepts every record boundary and the head, in every unit of retention', async () => {
    const h = await logs.create({ count: 60, perUnit: 6 });
    const registry = h.registry({ logger: quiet, autoCleanup: false });
    registry.register('c');
    for (const rec of h.log.readMany(0, 1000)) {
      expect(registry.commit('c', rec.offset).cursor).toBe(rec.offset);
      if (rec.offset + 1 < rec.next) expect(isConsumerError(thrown(() => registry.commit('c', rec.offset + 1)))).toBe(true);
    }
    expect(registry.commit('c', h.log.head).cursor).toBe(h.log.head);
  });

  it('clamps once per open of the log: a later registry on the same log leaves cursors committed after recovery where they are', async () => {
    const first = await logs.create();
    await first.appendBatch([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
    const last = first.log.readMany(0, 3)[2]!.offset;
    const h = await first.reopen({ cutLastRecord: true }); // a torn tail: recovery cuts the last record
    expect(h.log.truncatedAt).toBe(last);

    const registry = h.registry({ logger: quiet });
    registry.register('c');
    await h.appendBatch([Buffer.from('d'), Buffer.from('e')]);
    const run = await runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true });
    expect(run.cursor).toBe(h.log.head);

    // later, another part of the app builds its own registry over the same log
    const again = h.registry({ logger: quiet });
    expect(again.clamped).toEqual([]);
    expect(again.get('c').cursor).toBe(h.log.head);
  });
});

describe.each(LOGS)('runConsumer and register refuse bad arguments before anything is written, over $kind', (logs) => {
  // Before the fix: a handler of 5 ran, and failed with "options.handler is not a function"
  // persisted as the consumer's error; timers of 2^31 ms or more fired every 1 ms.
  it('handlers that are not functions, timer options past 2^31 - 1 ms, a signal, stopAtHead or transientRecords of the wrong type, a misspelt option', async () => {
    const h = await logs.create({ count: 5 });
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    const before = h.image();
    const bad: Array<[string, unknown]> = [
      ['handler 5', { handler: 5 }],
      ['handler "f"', { handler: 'f' }],
      ['handler null', { handler: null }],
      ['batchHandler {}', { batchHandler: {} }],
      ['both', { handler: noop, batchHandler: noop }],
      ['neither', {}],
      ['a handler of null beside a batch handler', { handler: null, batchHandler: noop }],
      ['options undefined', undefined],
      ['options null', null],
      ['options a function', noop],
      ['commitEveryMs 2^31', { handler: noop, commitEveryMs: TIMER_OVERFLOW }],
      ['commitEveryMs MAX_SAFE_INTEGER', { handler: noop, commitEveryMs: Number.MAX_SAFE_INTEGER }],
      ['commitEveryMs null', { handler: noop, commitEveryMs: null }],
      ['retry.initialDelayMs 2^31', { handler: noop, retry: { initialDelayMs: TIMER_OVERFLOW } }],
      ['retry.maxDelayMs 2^31', { handler: noop, retry: { maxDelayMs: TIMER_OVERFLOW } }],
      ['retry.maxDelayMs MAX_SAFE_INTEGER', { handler: noop, retry: { maxDelayMs: Number.MAX_SAFE_INTEGER } }],
      ['batchSize null', { handler: noop, batchSize: null }],
      ['signal {}', { handler: noop, signal: {} }],
      ['signal true', { handler: noop, signal: true }],
      ['stopAtHead "yes"', { handler: noop, stopAtHead: 'yes' }],
      ['transientRecords "yes"', { handler: noop, transientRecords: 'yes' }],
      ['transientRecords null', { handler: noop, transientRecords: null }],
      ['onCommit 1', { handler: noop, onCommit: 1 }],
      ['onCommit null', { handler: noop, onCommit: null }],
      // misspelt: each would have been its default, silently
      ['comitEveryRecords', { handler: noop, comitEveryRecords: 10 }],
      ['stopAtHed', { handler: noop, stopAtHed: true }],
      ['retry.maxAttemps', { handler: noop, retry: { maxAttemps: 3 } }],
    ];
    for (const [what, options] of bad) {
      expectInvalidArgument(await rejected(runConsumer(registry, 'c', options as RunOptions)), what);
    }
    expect(h.image()).toEqual(before);
    expect(registry.list()[0]).toMatchObject({ state: 'registered', cursor: 0 });
    expect(registry.list()[0]).not.toHaveProperty('error');
  });

  it('takes the largest timer Node runs as asked (2^31 - 1 ms)', async () => {
    const h = await logs.create({ count: 5 });
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    const max = TIMER_OVERFLOW - 1;
    const result = await runConsumer(registry, 'c', { handler: noop, commitEveryMs: max, retry: { initialDelayMs: max, maxDelayMs: max }, stopAtHead: true });
    expect(result).toMatchObject({ state: 'stopped', handled: 5, cursor: h.log.head });
  });

  it('validates retry options as integers (attempts positive, delays non-negative) before writing anything', async () => {
    const h = await logs.create();
    await h.append(Buffer.from('x'));
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    const before = registry.get('c');
    const bad: Array<RunOptions['retry']> = [
      { maxAttempts: 0 },
      { maxAttempts: -1 },
      { maxAttempts: 1.5 },
      { maxAttempts: Number.NaN },
      { maxAttempts: Number.POSITIVE_INFINITY },
      { maxAttempts: '3' as unknown as number },
      { initialDelayMs: -1 },
      { initialDelayMs: 0.5 },
      { maxDelayMs: -5 },
      { maxDelayMs: Number.NaN },
      42 as unknown as RunOptions['retry'],
    ];
    for (const retry of bad) {
      const err = await rejected(runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true, retry }));
      expect(isConsumerError(err, ConsumerErrorCodes.InvalidArgument), `${JSON.stringify(retry)}: ${String(err)}`).toBe(true);
    }
    expect(registry.get('c')).toEqual(before);
    let calls = 0;
    const run = await runConsumer(registry, 'c', {
      handler: () => {
        if (++calls < 3) throw new Error('flaky');
      },
      retry: { maxAttempts: 3, initialDelayMs: 0, maxDelayMs: 0 },
      stopAtHead: true,
    });
    expect(run).toMatchObject({ state: 'stopped', handled: 1 });
  });

  // Before the fix: a startFrom of null registered the consumer at earliest.
  it('register: a bad startFrom, for a new consumer and for one already registered', async () => {
    const h = await logs.create({ count: 5 });
    const registry = h.registry({ logger: quiet });
    registry.register('old', { startFrom: 'latest' });
    const before = h.image();
    const bad: Array<[string, unknown]> = [
      ['startFrom null', { startFrom: null }],
      ['startFrom "first"', { startFrom: 'first' }],
      ['startFrom "0"', { startFrom: '0' }],
      ['startFrom true', { startFrom: true }],
      ['startFrom {}', { startFrom: {} }],
      ['options null', null],
      ['options "earliest"', 'earliest'],
    ];
    for (const name of ['new', 'old']) {
      for (const [what, options] of bad) {
        expectInvalidArgument(thrown(() => registry.register(name, options as { startFrom?: number })), `${name}: ${what}`);
      }
    }
    expect(h.image()).toEqual(before);
    expect(registry.has('new')).toBe(false);
    // what is allowed still is
    expect(registry.register('new').cursor).toBe(h.log.earliest);
    expect(registry.register('new2', {}).cursor).toBe(h.log.earliest);
    expect(registry.register('new3', { startFrom: undefined }).cursor).toBe(h.log.earliest);
  });
});

describe.each(LOGS)('who runs a consumer, over $kind', (logs) => {
  it('refuses to run a consumer that is running in another live process, and writes nothing', async () => {
    const h = await logs.create();
    await h.append(Buffer.from('x'));
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    const other = spawn('sleep', ['10'], { stdio: 'ignore' });
    try {
      registry.commit('c', 0, { state: 'running', pid: other.pid! }); // as the other process's runner did
      expect(registry.list()[0]).toMatchObject({ state: 'running', pid: other.pid });
      const before = registry.get('c');
      const err = await rejected(runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true }));
      expect(err, `took over: now ${JSON.stringify(registry.get('c'))}`).toMatchObject({ code: 'CONSUMER_RUNNING' });
      expect(registry.get('c')).toEqual(before);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a consumer whose recorded runner process is dead', async () => {
    const h = await logs.create();
    await h.append(Buffer.from('x'));
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    registry.commit('c', 0, { state: 'running', pid: DEAD_PID });
    const run = await runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true });
    expect(run).toMatchObject({ state: 'stopped', cursor: h.log.head, handled: 1 });
  });

  it('refuses a second concurrent runner of one consumer in the same process, and allows it once the first stopped', async () => {
    const h = await logs.create();
    await h.append(Buffer.from('x'));
    const registry = h.registry({ logger: quiet });
    registry.register('c');
    const abort = new AbortController();
    const first = runConsumer(registry, 'c', { handler: () => undefined, signal: abort.signal });
    const err = await rejected(runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true }));
    expect(isConsumerError(err, ConsumerErrorCodes.Running)).toBe(true);
    abort.abort();
    expect(await first).toMatchObject({ state: 'stopped', cursor: h.log.head });
    expect(await runConsumer(registry, 'c', { handler: () => undefined, stopAtHead: true })).toMatchObject({ state: 'stopped' });
  });
});
