import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventDecoder } from '@episteme/store';
import { Journal } from '@episteme/wal';
import { episteme, json, killChildren, removeTempDirs, tempDir } from './cliHelpers.js';

afterEach(() => {
  killChildren();
  removeTempDirs();
});

const LINES = 150_000;

/** Line i (from 0) names its subject `s<i>`; every 50th fails validation. */
function input(): string {
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) out.push(JSON.stringify({ subject: `s${i}`, predicate: 'p', object: 'o', confidence: i % 50 === 49 ? 7 : 0.5, source: 'kill' }));
  return out.join('\n') + '\n';
}

/** Records in the log so far (0 before it can be read: the writer is still creating it). */
async function logged(data: string): Promise<number> {
  if (!existsSync(join(data, 'journal'))) return 0;
  try {
    const journal = await Journal.openForRead({ dir: join(data, 'journal') });
    try {
      let n = 0;
      for await (const _ of journal.readFrom(journal.earliest)) n++;
      return n;
    } finally {
      await journal.close();
    }
  } catch {
    return 0;
  }
}

/** The subjects of the events in the log, in log order; every record must decode. */
async function subjects(data: string): Promise<string[]> {
  const journal = await Journal.openForRead({ dir: join(data, 'journal') });
  const decoder = createEventDecoder();
  try {
    const out: string[] = [];
    for await (const r of journal.readFrom(journal.earliest)) for (const e of decoder.eventsOf(r)) out.push((e.data as { subject: string }).subject);
    return out;
  } finally {
    await journal.close();
  }
}

describe('import under SIGKILL', () => {
  it.each(['0', '1'])('--workers %s: the log holds the first valid lines, each once and whole, in line order; a finished import holds them all', { timeout: 180_000 }, async (workers) => {
    const dir = tempDir();
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, input());
    const valid = Array.from({ length: LINES }, (_, i) => i).filter((i) => i % 50 !== 49).map((i) => `s${i}`);
    const data = join(dir, 'data');
    const kill = new AbortController();
    const run = episteme(['--data', data, '--json', 'import', '--workers', workers, file], { signal: kill.signal, timeoutMs: 150_000 });
    let finished = false;
    void run.then(() => (finished = true));
    // killed once some batches are in and before the end (a 150,000-line import takes seconds; segments are preallocated, so the first batches are counted in the log)
    while (!finished && (await logged(data)) < 5_000) await new Promise((r) => setTimeout(r, 50));
    kill.abort();
    const result = await run;
    const got = await subjects(data);
    expect(got.length).toBeGreaterThan(0);
    // a prefix: batches go to the journal one after the other, each one write, and a kill leaves whole records
    expect(got).toEqual(valid.slice(0, got.length));
    console.log(`import --workers ${workers}: ${result.signal ?? `exit ${result.code}`} with ${got.length} of ${valid.length} valid lines in the log`);
    if (result.signal === 'SIGKILL') expect(got.length).toBeLessThan(valid.length);
    else expect(json<{ records: number }>(result.stdout).records).toBe(got.length);
  });
});
