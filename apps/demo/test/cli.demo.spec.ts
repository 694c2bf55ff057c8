/**
 * `npm run demo` itself, from source, kept short with EPISTEME_DEMO_RECORDS:
 * concurrent producers appending to the event store (one stream per
 * assertion), projections and the audit export following, a writer
 * SIGKILLed mid-stream, recovery, and the check that no acknowledged
 * assertion was lost and every record was exported exactly once.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cli, DEMO_ENTRY, json, killChildren, removeTempDirs, spawnTs, tempDir } from './cliHelpers.js';

afterEach(killChildren);
afterAll(removeTempDirs);

const RECORDS = 5000;

describe('npm run demo', () => {
  it('runs to the end and exits 0: nothing lost, exactly once', { timeout: 130_000 }, async () => {
    const data = join(tempDir('episteme-demo-'), 'data');
    const r = await spawnTs(DEMO_ENTRY, [data], { env: { EPISTEME_DEMO_RECORDS: String(RECORDS) }, timeoutMs: 120_000 });
    expect(r.code, `exit ${r.code} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`Episteme demo in ${data}`);
    // the summary table of the first phase: records, throughput, heads, cursors, lags
    expect(r.stdout).toMatch(new RegExp(`^${RECORDS}\\s+64\\s+[\\d.]+\\s+[\\d,]+\\s+[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+\\d+$`, 'm'));
    expect(r.stdout).toMatch(/^audit-export\s+(\d+)\s+\1\s+0\s+/m);
    expect(r.stdout).toMatch(/the child acknowledged \d+ assertions before it was killed/);
    expect(r.stdout).toContain('3. reopened: RecoveryReport');
    expect(r.stdout).toMatch(/^beliefs\s+(resumed|rebuilt)\s/m);
    const verified = /acknowledged assertions verified after the crash: (\d+)\/(\d+) \(lost: 0\)/.exec(r.stdout);
    expect(verified, r.stdout).not.toBeNull();
    expect(verified![1]).toBe(verified![2]);
    expect(Number(verified![2])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/audit export: (\d+) lines for \1 events, \1 distinct global positions \(exactly once: yes\)/);
    expect(r.stdout).toMatch(/^\d+\s+\d+\s+[\d.]+ \w+\s+\d+\s+\d+\s+\d+\s+(checkpoint|stale|missing)\s+\d+$/m); // the reopen's recovery and stream index

    // the data it leaves is what the CLI then inspects
    const stats = json<{ assertions: number }>((await cli(['--data', data, '--json', 'stats'])).stdout);
    expect(stats.assertions).toBeGreaterThan(RECORDS);
    const verify = await cli(['--data', data, '--json', 'wal', 'verify']);
    expect(verify.code, verify.stdout).toBe(0);
    expect(json<{ ok: boolean; recordsVerified: number }>(verify.stdout)).toMatchObject({ ok: true, recordsVerified: stats.assertions });
  });
});
