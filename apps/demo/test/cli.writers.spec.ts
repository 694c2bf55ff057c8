/**
 * Writers that meet: the writer lock (one writer per directory, across
 * processes; a command that writes waits for it, --lock-wait) and the event
 * store's expected versions, which decide between writes in the writer. Two
 * `episteme retract` processes of one id: exactly one retraction is
 * appended, the other command exits 1 with the conflict.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Journal } from '@episteme/wal';
import { cli, episteme, json, killChildren, oneLineError, removeTempDirs, snapshotTree, STACK_FRAME, tempDir, type Run } from './cliHelpers.js';

afterEach(killChildren);
afterAll(removeTempDirs);

const assertArgs = (id: string) => ['assert', '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun', '--id', id];

interface Shown {
  version: number;
  events: { type: string; data: { reason?: string } }[];
}

async function show(data: string, stream: string): Promise<Shown> {
  const r = await cli(['--data', data, '--json', 'streams', 'show', stream]);
  expect(r.code, r.stderr).toBe(0);
  return json<Shown>(r.stdout);
}

/**
 * How a write command names the lock's holder. `cli()` runs the CLI in this
 * test's process, so a writer the test holds is "already open for writing in
 * this process"; commands run as processes of their own (`episteme()`) meet
 * "another writer" (as in packages/wal/test/journal.crash.e2e.spec.ts).
 */
const HELD_HERE = String.raw`journal \S+ is already open for writing in this process \(pid \d+, since \S+\): use that writer, or close it first`;
const HELD_ELSEWHERE = String.raw`journal \S+ is locked by another writer \(pid \d+ on .+, since \S+\)`;

/** Resolves once `text` has the waiting note of a write command (it is at the writer's open, waiting for the lock). */
function waitingNote(text: () => string): Promise<void> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (new RegExp(String.raw`^note: ${HELD_ELSEWHERE}; waiting up to \d+ ms for it \(--lock-wait\)$`, 'm').test(text())) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
}

describe('the writer lock', () => {
  it('--lock-wait 0: a command that writes is refused at once while another process writes (exit 1, one line, nothing changed)', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('a1')])).code).toBe(0);
    const writer = await Journal.open({ dir: join(data, 'journal') });
    await writer.sync(); // its background tail check and the clean-close mark's withdrawal done (see below)
    try {
      const before = snapshotTree(data);
      for (const argv of [assertArgs('a2'), ['retract', 'a1', '--reason', 'r'], ['projections', 'rebuild', 'beliefs']]) {
        const r = await cli(['--data', data, '--lock-wait', '0', ...argv]);
        expect(r.code, argv.join(' ')).toBe(1);
        expect(oneLineError(r.stderr)).toMatch(new RegExp(String.raw`^episteme [a-z ]+: ${HELD_HERE}$`));
        expect(r.stderr).not.toMatch(STACK_FRAME);
      }
      expect(snapshotTree(data)).toEqual(before);
    } finally {
      await writer.close();
    }
  });

  it('waits for the lock (a note says so), up to --lock-wait (EPISTEME_LOCK_WAIT), then gives up; and goes on once it is free', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('a1')])).code).toBe(0);
    const writer = await Journal.open({ dir: join(data, 'journal') });
    // after a clean close the open checks the last segment in the background and then withdraws the
    // clean-close mark (RECOVERY_POINT); a sync waits for both, so the snapshot holds only what the CLI does
    await writer.sync();
    let released = false;
    try {
      const before = snapshotTree(data);
      const started = Date.now();
      const late = await cli(['--data', data, ...assertArgs('a2')], { EPISTEME_LOCK_WAIT: '300' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(late.code).toBe(1);
      const [note, error, ...rest] = late.stderr.trimEnd().split('\n');
      expect(note).toMatch(new RegExp(String.raw`^note: ${HELD_HERE}; waiting up to 300 ms for it \(--lock-wait\)$`));
      expect(error).toMatch(new RegExp(String.raw`^episteme assert: ${HELD_HERE}$`));
      expect(rest).toEqual([]);
      expect(snapshotTree(data)).toEqual(before);
      // freed while the command waits: it appends
      setTimeout(() => void writer.close().then(() => (released = true)), 200);
      const waited = await cli(['--data', data, '--lock-wait', '20000', '--json', ...assertArgs('a2')]);
      expect(waited.code, waited.stderr).toBe(0);
      expect(released).toBe(true);
      expect(json(waited.stdout)).toMatchObject({ id: 'a2', version: 1 });
    } finally {
      if (!released) await writer.close();
    }
    for (const bad of ['-1', 'soon', '1.5']) {
      const r = await cli(['--data', data, '--lock-wait', bad, ...assertArgs('a3')]);
      expect(r.code).toBe(2);
      expect(oneLineError(r.stderr)).toBe(`episteme: the lock wait must be a whole number of milliseconds (0: do not wait), got ${JSON.stringify(bad)}`);
    }
  });
});

describe('two processes retracting the same id at once', () => {
  /** Exactly one retraction in the stream; the loser's exit and message. */
  async function expectOneWinner(data: string, runs: Run[]): Promise<Run> {
    const winners = runs.filter((r) => r.code === 0);
    const losers = runs.filter((r) => r.code !== 0);
    expect(winners, runs.map((r) => r.stderr).join('\n')).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const loser = losers[0]!;
    expect(loser.code).toBe(1);
    expect(loser.stdout).toBe('');
    expect(loser.stderr).not.toMatch(STACK_FRAME);
    const shown = await show(data, 'assertion-contested');
    expect(shown.version).toBe(2);
    expect(shown.events.map((e) => e.type)).toEqual(['AssertionMade', 'AssertionRetracted']);
    return loser;
  }

  it('both wait at the writer lock together and go for it when it is freed: one retraction is appended, the other exits 1 with the conflict', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('contested')])).code).toBe(0);
    // Another writer holds the lock while both processes start, validate and reach the writer's open: each
    // prints the waiting note there. Only then is the lock freed, and the two race for it and for the append.
    const holder = await Journal.open({ dir: join(data, 'journal') });
    const stderrs = ['', ''];
    const runs = [0, 1].map((i) =>
      episteme(['--data', data, '--lock-wait', '60000', 'retract', 'contested', '--reason', `process ${i}`], { onStderr: (s) => (stderrs[i] += s), timeoutMs: 90_000 }),
    );
    await Promise.all([0, 1].map((i) => waitingNote(() => stderrs[i]!)));
    await holder.close();
    const loser = await expectOneWinner(data, await Promise.all(runs));
    // the loser took the lock after the winner's commit, read the stream in the writer and found it retracted
    expect(loser.stderr.trimEnd().split('\n').at(-1)).toBe('episteme retract: assertion "contested" is already retracted (stream "assertion-contested" at version 2); nothing was appended');
  }, 120_000);

  it('started at the same moment with nothing held: the same outcome, --json names the code', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('contested')])).code).toBe(0);
    const runs = await Promise.all([0, 1].map((i) => episteme(['--data', data, '--json', '--lock-wait', '60000', 'retract', 'contested', '--reason', `process ${i}`], { timeoutMs: 90_000 })));
    // the loser's stdout is its error document, checked below
    const loser = await expectOneWinner(data, runs.map((r) => (r.code === 0 ? r : { ...r, stdout: '' })));
    const doc = json<{ error: { code: string; message: string } }>(runs.find((r) => r.code === 1)!.stdout);
    expect(doc.error).toMatchObject({ code: 'APP_ALREADY_RETRACTED', message: 'assertion "contested" is already retracted (stream "assertion-contested" at version 2); nothing was appended' });
    expect(loser.stderr).toMatch(/already retracted/);
  }, 120_000);
});
