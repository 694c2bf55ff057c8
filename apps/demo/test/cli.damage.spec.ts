/**
 * Damage in an app's data directory. A damaged cursor file (bit rot in both
 * slots): a projection's own cursor is rewritten with one warning (the
 * engine's, saying so), so the app keeps working; any other consumer's gets
 * one warning saying how to get out of it, and any consumer's damaged cursor
 * can be reset or deleted from the CLI. A read-only command leaves a
 * projection's damaged cursor as it is, with one warning saying that the
 * next command that writes rewrites it (it does). Damage in the journal's last segment: the writer's recovery cuts
 * it into quarantine (FORMAT.md), and the command says so on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsumerRegistry } from '@episteme/consumers';
import { Journal } from '@episteme/wal';
import { SLOT_BYTES } from '../../../packages/consumers/src/cursorFile.js';
import { AUDIT_CONSUMER } from '../src/consumers/auditExport.js';
import { cli, json, snapshotTree, tempDir, removeTempDirs } from './cliHelpers.js';

afterEach(removeTempDirs);

function damage(data: string, consumer: string): void {
  const path = join(data, 'journal', 'consumers', `${consumer}.cursor`);
  const bytes = readFileSync(path);
  bytes[20]! ^= 1;
  bytes[SLOT_BYTES + 20]! ^= 1;
  writeFileSync(path, bytes);
}

/** A data directory with one assertion and the audit export's consumer registered (a plain consumer, not a projection's). */
async function withAuditConsumer(): Promise<string> {
  const data = tempDir();
  expect((await cli(['--data', data, ...assertArgs('sun')])).code).toBe(0);
  const journal = await Journal.open({ dir: join(data, 'journal') });
  ConsumerRegistry.forJournal(journal, { logger: { warn: () => undefined } }).register(AUDIT_CONSUMER);
  await journal.close();
  return data;
}

const assertArgs = (object: string) => ['assert', '--subject', 'earth', '--predicate', 'orbits', '--object', object];

describe('episteme with a damaged cursor file', () => {
  it("a projection's damaged cursor: assert still works, with one warning; the consumers list then shows a valid cursor", async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('sun')])).code).toBe(0);
    damage(data, 'projection.stats');
    const r = await cli(['--data', data, ...assertArgs('moon')]);
    expect(r.code, r.stderr).toBe(0);
    // one problem, one warning: the engine's, which says what it did (not also the registry's, which says what to do)
    expect(r.stderr.split('\n').filter((line) => line !== '')).toEqual([
      expect.stringMatching(/^warning: projection "stats": its cursor file .*projection\.stats\.cursor was damaged \(.*\); rewritten at the earliest retained offset 0\b.*next snapshot moves it to the projection's checkpoint/),
    ]);
    const list = await cli(['--data', data, '--json', 'consumers', 'list']);
    expect(list.code).toBe(0);
    const rows = json<Array<{ name: string; state: string; cursor: number }>>(list.stdout);
    expect(rows.find((c) => c.name === 'projection.stats')!.cursor).toBeGreaterThanOrEqual(0);
  });

  it("a plain consumer's damaged cursor next to a projection's: one warning each, the consumer's says how to get out of it", async () => {
    const data = await withAuditConsumer();
    damage(data, AUDIT_CONSUMER);
    damage(data, 'projection.beliefs');
    const r = await cli(['--data', data, ...assertArgs('moon')]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((line) => line !== '');
    expect(warnings).toHaveLength(2);
    expect(warnings).toContainEqual(expect.stringMatching(/^warning: projection "beliefs": its cursor file .* was damaged .*; rewritten at the earliest retained offset 0\b/));
    expect(warnings).toContainEqual(expect.stringMatching(/^warning: consumer "audit-export": cursor file .*audit-export\.cursor is damaged: .*; reset the consumer to a position \(or delete it\) to write it anew$/));
  });

  it("a projection's damaged cursor in read-only commands: one warning each, that the next command that writes rewrites it (each does); no file changed", async () => {
    const data = tempDir();
    const asserted = await cli(['--data', data, ...assertArgs('sun')]);
    expect(asserted.code).toBe(0);
    const id = /^id (.+)$/m.exec(asserted.stdout)![1]!;
    damage(data, 'projection.stats');
    const before = snapshotTree(data);
    for (const args of [['consumers', 'list'], ['beliefs', 'earth'], ['stats'], ['projections', 'list']]) {
      const r = await cli(['--data', data, ...args]);
      expect(r.code, r.stderr).toBe(0);
      // the projection's warning, not the registry's advice to reset a cursor that the next writer rewrites anyway
      expect(r.stderr.split('\n').filter((line) => line.startsWith('warning: ')), args.join(' ')).toEqual([
        expect.stringMatching(
          /^warning: projection "stats": its cursor file .*projection\.stats\.cursor is damaged \(no valid slot .*\); nothing to do: the next process that opens the journal as its writer with this projection registered rewrites it, and one running now does at the projection's next snapshot; the projection's state is untouched$/,
        ),
      ]);
      if (args[0] === 'consumers') {
        // the row's error too: no advice to reset a projection's cursor by hand
        expect(r.stdout).toMatch(/^projection\.stats: cursor file .*projection\.stats\.cursor is damaged: no valid slot .*; it is the cursor of projection "stats", rewritten by the next command that writes \(`episteme assert`, `retract`, `import` or `projections rebuild stats`\); the projection's state is untouched$/m);
        expect(r.stdout).not.toMatch(/reset the consumer/);
      }
      expect(snapshotTree(data), args.join(' ')).toEqual(before);
    }
    // each command that writes rewrites the file (as the warning says: the next writer); the read-only commands are quiet afterwards
    const ndjson = join(data, 'more.ndjson');
    writeFileSync(ndjson, '{"subject":"mars","predicate":"hasColor","object":"red","confidence":0.9,"source":"survey"}\n');
    const writers = [assertArgs('moon'), ['retract', id, '--reason', 'superseded'], ['import', ndjson], ['projections', 'rebuild', 'stats']];
    for (const [i, args] of writers.entries()) {
      if (i > 0) damage(data, 'projection.stats');
      const w = await cli(['--data', data, ...args]);
      expect(w.code, w.stderr).toBe(0);
      expect(w.stderr, args.join(' ')).toMatch(/^warning: projection "stats": its cursor file .* was damaged .*; rewritten at the earliest retained offset 0\b/);
      const list = await cli(['--data', data, '--json', 'consumers', 'list']);
      expect(list.stderr, args.join(' ')).toBe('');
      expect(json<Array<{ name: string; state: string }>>(list.stdout).find((c) => c.name === 'projection.stats')!.state).not.toBe('failed');
    }
  });

  it('consumers reset and delete work on a damaged cursor file; the error of other commands says how', async () => {
    const data = tempDir();
    expect((await cli(['--data', data, ...assertArgs('sun')])).code).toBe(0);
    damage(data, 'projection.beliefs');
    const listed = json<Array<{ name: string; state: string; error?: string }>>((await cli(['--data', data, '--json', 'consumers', 'list'])).stdout);
    expect(listed.find((c) => c.name === 'projection.beliefs')).toMatchObject({
      state: 'failed',
      cursor: null,
      lagBytes: null,
      lastCommitAt: null,
      error: expect.stringMatching(/reset the consumer to a position \(or delete it\)/),
      // for a caller that words its own advice (the table does, for a projection's cursor)
      damage: { path: expect.stringMatching(/projection\.beliefs\.cursor$/), why: expect.stringMatching(/^no valid slot/) },
    });
    const text = (await cli(['--data', data, 'consumers', 'list'])).stdout;
    expect(text).toMatch(/^projection\.beliefs\s+\?\s+\d+\s+\?\s+\?\s+\?\s+failed$/m);
    expect(text).toMatch(/^projection\.beliefs: cursor file .* is damaged: /m);
    // the command repairs the file: no warning about it (which would say that nothing need be done, or to do what the
    // command does), a note of what it replaced; another damaged cursor is still warned about
    damage(data, 'projection.stats');
    const reset = await cli(['--data', data, 'consumers', 'reset', 'projection.beliefs', '--to', 'earliest']);
    expect(reset.code, reset.stderr).toBe(0);
    const resetLines = reset.stderr.split('\n').filter((line) => line !== '');
    expect(resetLines.filter((line) => line.startsWith('warning:'))).toEqual([expect.stringMatching(/^warning: projection "stats": its cursor file .*projection\.stats\.cursor is damaged/)]);
    expect(resetLines).toContainEqual(expect.stringMatching(/^note: the cursor file .*projection\.beliefs\.cursor was damaged \(no valid slot .*\); written anew$/));
    damage(data, 'projection.beliefs');
    const del = await cli(['--data', data, 'consumers', 'delete', 'projection.beliefs']);
    expect(del.code, del.stderr).toBe(0);
    const delLines = del.stderr.split('\n').filter((line) => line !== '');
    expect(delLines.filter((line) => line.startsWith('warning:'))).toEqual([expect.stringMatching(/^warning: projection "stats": /)]);
    expect(delLines).toContainEqual(expect.stringMatching(/^note: the cursor file .*projection\.beliefs\.cursor was damaged \(no valid slot .*\); deleted with the consumer$/));
  });

  it("consumers reset on a plain consumer's damaged cursor: a note of what it replaced, not the advice to reset it", async () => {
    const data = await withAuditConsumer();
    damage(data, AUDIT_CONSUMER);
    // refused (not a record boundary): the damage is still reported, and nothing changes
    const before = snapshotTree(data);
    const refused = await cli(['--data', data, 'consumers', 'reset', AUDIT_CONSUMER, '--to', '5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^warning: the cursor file .*audit-export\.cursor is damaged \(no valid slot .*\) and stays so\n.*not the start of a record/m);
    expect(snapshotTree(data)).toEqual(before);
    const r = await cli(['--data', data, 'consumers', 'reset', AUDIT_CONSUMER, '--to', 'latest']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: the cursor file .*audit-export\.cursor was damaged \(no valid slot .*\); written anew\n$/);
    const list = json<Array<{ name: string; state: string; cursor: number }>>((await cli(['--data', data, '--json', 'consumers', 'list'])).stdout);
    const audit = list.find((c) => c.name === AUDIT_CONSUMER)!;
    expect(audit.state).not.toBe('failed');
    expect(audit.cursor).toBeGreaterThan(0); // at the head ("latest"), written anew
  });
});

describe('episteme with a damaged journal', () => {
  it("a query answers from its own projection when another one cannot apply the log (and says which one cannot)", async () => {
    const data = tempDir();
    for (let i = 1; i <= 6; i++) expect((await cli(['--data', data, '--segment-bytes', '1024', 'assert', '--subject', `s${i}`, '--predicate', 'p', '--object', 'o'])).code).toBe(0);
    // beliefs resumes from a snapshot at the head; stats has none and must rebuild from offset 0
    expect((await cli(['--data', data, 'projections', 'rebuild', 'beliefs'])).code).toBe(0);
    const first = join(data, 'journal', '0000000000000000.wal');
    const bytes = readFileSync(first);
    bytes[32 + 40 + 10]! ^= 0xff; // the first record's payload, in a sealed segment
    writeFileSync(first, bytes);
    const beliefs = await cli(['--data', data, '--json', 'beliefs', 's6']);
    expect(beliefs.code, beliefs.stderr).toBe(0);
    expect(json<{ assertions: unknown[] }>(beliefs.stdout).assertions).toHaveLength(1);
    expect(beliefs.stderr).toMatch(/^warning: projection "stats" failed to start: /);
    const stats = await cli(['--data', data, 'stats']);
    expect(stats.code).toBe(1);
    expect(stats.stderr).toMatch(/^episteme stats: projection "stats" cannot answer: /m);
  });

  it('a bit flip in the last segment with valid records after it: the command that opens the writer says what recovery cut', async () => {
    const data = tempDir();
    for (const object of ['sun', 'moon', 'mars']) expect((await cli(['--data', data, ...assertArgs(object)])).code).toBe(0);
    const segment = join(data, 'journal', '0000000000000000.wal');
    const bytes = readFileSync(segment);
    bytes[32 + 40 + 10]! ^= 0xff; // inside the first record's payload
    writeFileSync(segment, bytes);
    const r = await cli(['--data', data, ...assertArgs('venus')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: journal recovery cut: 0000000000000000\.wal at file position 32 \(offset 0\): crc-mismatch; .* moved to quarantine\/.*; 2 well-formed records in the cut \(valid records follow the damage: likely media corruption rather than a torn write; they are in the quarantine file\)$/m);
  });
});
