import { describe, expect, it } from 'vitest';
import { ConsumerErrorCodes, ConsumerRegistry, isConsumerError, runConsumer, type RunOptions } from '../src/index.js';
import { snapshotDir } from '../../wal/test/helpers.js';
import { journalWith, quiet, rejected, thrown } from './helpers.js';

const TIMER_OVERFLOW = 2 ** 31; // Node runs a timer this long (or longer) after 1 ms

function expectInvalidArgument(err: unknown, what: string): void {
  expect(isConsumerError(err, ConsumerErrorCodes.InvalidArgument), `${what}: ${String(err)}`).toBe(true);
}

const noop = (): void => undefined;

describe('runConsumer refuses bad options before anything is written', () => {
  // Before the fix: a handler of 5 ran, and failed with "options.handler is not a function"
  // persisted as the consumer's error; timers of 2^31 ms or more fired every 1 ms.
  it('handlers that are not functions, timer options past 2^31 - 1 ms, a signal or stopAtHead of the wrong type', async () => {
    const journal = await journalWith(5);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('c');
    const before = snapshotDir(journal.dir);
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
    ];
    for (const [what, options] of bad) {
      expectInvalidArgument(await rejected(runConsumer(registry, 'c', options as RunOptions)), what);
    }
    expect(snapshotDir(journal.dir)).toEqual(before);
    expect(registry.list()[0]).toMatchObject({ state: 'registered', cursor: 0 });
    expect(registry.list()[0]).not.toHaveProperty('error');
  });

  it('takes the largest timer Node runs as asked (2^31 - 1 ms)', async () => {
    const journal = await journalWith(5);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('c');
    const max = TIMER_OVERFLOW - 1;
    const result = await runConsumer(registry, 'c', { handler: noop, commitEveryMs: max, retry: { initialDelayMs: max, maxDelayMs: max }, stopAtHead: true });
    expect(result).toMatchObject({ state: 'stopped', handled: 5, cursor: journal.head });
  });
});

describe('register refuses a bad startFrom before anything is written', () => {
  // Before the fix: a startFrom of null registered the consumer at earliest.
  it('for a new consumer and for one already registered', async () => {
    const journal = await journalWith(5);
    const registry = new ConsumerRegistry(journal, { logger: quiet });
    registry.register('old', { startFrom: 'latest' });
    const before = snapshotDir(journal.dir);
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
    expect(snapshotDir(journal.dir)).toEqual(before);
    expect(registry.has('new')).toBe(false);
    // what is allowed still is
    expect(registry.register('new').cursor).toBe(journal.earliest);
    expect(registry.register('new2', {}).cursor).toBe(journal.earliest);
    expect(registry.register('new3', { startFrom: undefined }).cursor).toBe(journal.earliest);
  });
});
