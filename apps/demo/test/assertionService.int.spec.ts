/**
 * The write side in one process: checks and appends are one step in the
 * writer, decided by the event store's expected versions. Concurrent
 * retractions of one assertion: one is appended, the other is refused with
 * a typed conflict naming the stream and both versions; the same for two
 * assertions taking one id. Nothing is appended for a refusal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { AlreadyRetractedError, AssertionConflictError, AssertionNotFoundError, IdInUseError, appOf, prepareAssertion, resolveConfig, wire } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

async function openApp(): Promise<ReturnType<typeof appOf>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'episteme-demo-service-'));
  dirs.push(dataDir);
  return appOf(await wire(container.createChildContainer(), resolveConfig({ dataDir }, {}), { logger: { warn: () => undefined } }));
}

const made = (id: string, subject = 'earth') => ({ id, subject, predicate: 'orbits', object: 'sun', confidence: 1, source: 'test' });

describe('AssertionService on the event store', () => {
  it('two retractions of one assertion at once: one is appended (version 2), the other gets AssertionConflictError (expected 1, actual 2)', async () => {
    const app = await openApp();
    try {
      const a = await app.service.assert(made('x'));
      expect(a).toEqual({ id: 'x', stream: 'assertion-x', version: 1, globalPosition: 0 });
      const head = app.store.log.head;
      const settled = await Promise.allSettled([app.service.retract({ assertionId: 'x', reason: 'one' }), app.service.retract({ assertionId: 'x', reason: 'two' })]);
      const won = settled.filter((s) => s.status === 'fulfilled');
      const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const err = lost[0]!.reason as AssertionConflictError;
      expect(err).toBeInstanceOf(AssertionConflictError);
      expect(err).toMatchObject({ code: 'APP_ASSERTION_CONFLICT', category: 'conflict', id: 'x', stream: 'assertion-x', expected: 1, actual: 2 });
      expect(err.message).toBe('assertion "x" changed meanwhile (stream "assertion-x": expected version 1, actual 2); nothing was appended; run the command again to see its state');
      const { events, currentVersion } = await app.store.readStream('assertion-x');
      expect(currentVersion).toBe(2);
      expect(events.map((e) => e.type)).toEqual(['AssertionMade', 'AssertionRetracted']);
      expect(app.store.log.countRecords(head)).toBe(1);
      // and once it settled, another try reads the new state
      await expect(app.service.retract({ assertionId: 'x', reason: 'three' })).rejects.toMatchObject({ code: 'APP_ALREADY_RETRACTED', stream: 'assertion-x', version: 2 });
      await expect(app.service.retract({ assertionId: 'y', reason: 'r' })).rejects.toBeInstanceOf(AssertionNotFoundError);
      expect(app.store.log.countRecords(head)).toBe(1);
    } finally {
      await app.store.close();
    }
  });

  it('two assertions with one id at once: one is appended, the other gets IdInUseError ("no_stream", actual 1); a standing id is refused, a retracted one taken again after its retraction', async () => {
    const app = await openApp();
    try {
      // one by one (assertPrepared): the loser is decided while the winner's commit is still in flight, with no subject to name
      const settled = await Promise.allSettled([app.service.assertPrepared(prepareAssertion(made('w', 'earth'))), app.service.assertPrepared(prepareAssertion(made('w', 'mars')))]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
      const err = (settled[1] as PromiseRejectedResult).reason as IdInUseError;
      expect(err).toBeInstanceOf(IdInUseError);
      expect(err).toMatchObject({ code: 'APP_ID_IN_USE', category: 'conflict', stream: 'assertion-w', expected: 'no_stream', actual: 1, subject: undefined });
      expect(err.message).toMatch(/^id "w" is already used by an assertion being appended \(stream "assertion-w": expected version no_stream, actual 1\)/);
      // in one batch (assert, in one job): one appendEach, whose conflicts are looked into once its commits are durable: the winner stands, and is named
      const batched = await Promise.allSettled([app.service.assert(made('y', 'earth')), app.service.assert(made('y', 'mars'))]);
      expect(batched.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
      const inBatch = (batched[1] as PromiseRejectedResult).reason as IdInUseError;
      expect(inBatch).toBeInstanceOf(IdInUseError);
      expect(inBatch).toMatchObject({ code: 'APP_ID_IN_USE', category: 'conflict', stream: 'assertion-y', expected: 'no_stream', actual: 1, subject: 'earth' });
      expect((await app.store.readStream('assertion-y')).events.map((e) => e.data)).toEqual([expect.objectContaining({ subject: 'earth' })]);

      const later = await app.service.assert(made('y', 'venus')).catch((e: unknown) => e);
      expect(later).toMatchObject({ code: 'APP_ID_IN_USE', subject: 'earth', actual: 1 });
      expect((later as Error).message).toBe(
        'id "y" is already used by a standing assertion about "earth" (stream "assertion-y": expected version no_stream, actual 1); nothing was appended: retract it first, or leave the id out (a new one is made)',
      );
      await app.service.retract({ assertionId: 'y', reason: 'wrong planet' });
      expect(await app.service.assert(made('y', 'venus'))).toMatchObject({ id: 'y', stream: 'assertion-y', version: 3 });
      expect((await app.store.readStream('assertion-y')).events.map((e) => e.type)).toEqual(['AssertionMade', 'AssertionRetracted', 'AssertionMade']);
      await expect(app.service.retract({ assertionId: 'y', reason: 'r' })).resolves.toMatchObject({ version: 4 });
      await expect(app.service.retract({ assertionId: 'y', reason: 'r' })).rejects.toBeInstanceOf(AlreadyRetractedError);
    } finally {
      await app.store.close();
    }
  });

  it('an id that cannot name a stream is invalid input, and nothing is appended', async () => {
    const app = await openApp();
    try {
      for (const id of ['has space', 'é', 'a\nb', 'x'.repeat(129)]) {
        await expect(app.service.assert(made(id))).rejects.toMatchObject({ code: 'APP_VALIDATION_FAILED', category: 'invalid-input' });
        await expect(app.service.retract({ assertionId: id, reason: 'r' })).rejects.toMatchObject({ code: 'APP_VALIDATION_FAILED' });
      }
      await expect(app.service.assert(made('has space'))).rejects.toThrow(/id may only hold letters, digits and - _ \. : @ \/ \+ = ~ # \(it names the assertion's stream\)/);
      expect(app.store.log.head).toBe(0);
    } finally {
      await app.store.close();
    }
  });
});
