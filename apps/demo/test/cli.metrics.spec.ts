/**
 * `--metrics-port`: while a command runs, the process serves its metrics as
 * Prometheus text; without the flag nothing listens and no SDK is loaded.
 */
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { removeTempDirs, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

/** The value of a sample line `name{...} value`, summed over its label sets. */
function sample(text: string, name: string): number | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return lines.length === 0 ? undefined : lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('episteme --metrics-port', () => {
  it('serves the journal, consumer and projection metrics as Prometheus text while an import runs', async () => {
    const port = await freePort();
    const data = tempDir();
    const stdin = new PassThrough();
    let stderr = '';
    const running = runCli(['--data', data, '--metrics-port', String(port), 'import', '-'], { stdout: () => {}, stderr: (s) => void (stderr += s), stderrIsTTY: false, stdin });
    const line = (i: number): string => JSON.stringify({ subject: `s${i}`, predicate: 'is', object: `o${i}`, confidence: 0.5, source: 't' }) + '\n';
    for (let i = 0; i < 50; i++) stdin.write(line(i));
    // the import appends in batches as lines arrive: scrape until they are counted. A batch's
    // records are counted when written, its duration when its append resolves (after the sync):
    // a scrape between the two sees the first only, so wait for both.
    let text = '';
    for (let tries = 0; tries < 200; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        text = await scrape(port);
      } catch {
        continue; // not listening yet
      }
      if ((sample(text, 'episteme_journal_records_appended_total') ?? 0) > 0 && (sample(text, 'episteme_journal_append_duration_count') ?? 0) > 0) break;
    }
    expect(sample(text, "episteme_journal_records_appended_total"), text).toBeGreaterThan(0);
    expect(text).toMatch(/^# TYPE episteme_journal_append_duration histogram$/m);
    expect(text).toMatch(/^episteme_journal_fsync_duration_count\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^episteme_journal_batch_records_sum\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^episteme_projection_lag_bytes\{messaging_system="episteme",episteme_projection_name="beliefs",[^}]*\} \d+$/m);
    expect(text).toMatch(/^episteme_projection_rebuild_progress\{[^}]*episteme_projection_name="stats"[^}]*\} [01]/m);
    expect(text).toMatch(/^episteme_consumer_lag_bytes\{messaging_system="episteme",messaging_consumer_group_name="[^"]+",[^}]*\} \d+$/m);
    stdin.end();
    expect(await running, stderr).toBe(0);
    expect(stderr).toContain(`note: metrics at http://127.0.0.1:${port}/metrics`);
    // the server went with the command
    await expect(scrape(port)).rejects.toThrow();
  });

  it('refuses a port that is not one (exit 2, nothing opened)', async () => {
    const data = tempDir();
    for (const bad of ['0', '70000', 'http']) {
      let stderr = '';
      const code = await runCli(['--data', data, '--metrics-port', bad, 'stats'], { stdout: () => {}, stderr: (s) => void (stderr += s), stderrIsTTY: false });
      expect(code, bad).toBe(2);
      expect(stderr).toContain('--metrics-port');
    }
  });
});
