import { describe, expect, it } from 'vitest';
import { repoScriptRunner } from '../../scripts/repoScript.js';

/**
 * `npm run bench -- --smoke` must keep working as the code changes: it runs
 * every suite on tiny sizes. Timings are never asserted (they are only
 * meaningful side by side in a full run); only that every suite completes and
 * prints its tables. Node is spawned directly with the flags of the root
 * `bench` script, so that killing the child kills the benchmark itself (npm
 * would leave it running as a grandchild).
 */

const run = repoScriptRunner();

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('bench/index.ts', args);
}

describe('npm run bench -- --smoke', () => {
  it('runs every suite on tiny sizes and prints the verify tables', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runBench(['--smoke']);
    expect(code, `stderr:\n${stderr}`).toBe(0);
    // the peers suite runs Episteme and raw fs always; better-sqlite3 and classic-level where bench/peers is installed, else a note says they are not in the run
    expect(stdout).toContain('== peers: durable append, one appender, one record per commit');
    expect(stdout).toMatch(/^256 B +better-sqlite3 WAL, synchronous=FULL |^ +better-sqlite3 and classic-level are not in this run: /m);
    expect(stdout).toContain('== verify: journal scan throughput, warm page cache');
    expect(stdout).toMatch(/verify MB\/s/);
    // One row per payload size, each ending with the goal verdict (yes/no, never a failure).
    expect(stdout).toMatch(/^256 B .*(yes|no)$/m);
    expect(stdout).toMatch(/^4 KiB .*(yes|no)$/m);
    expect(stdout).toContain('== verify: BLAKE3 cut-off');
    expect(stdout).toContain('== verify: CRC32C cut-off');
    expect(stdout).toContain('== import: NDJSON assertions end to end');
    expect(stdout).toContain("== app: the assertions app's write path");
    expect(stdout).toContain('== app: validating one assertion');
    // the streams suite runs Episteme always; the Emmett peers only where bench/peers is installed (a note says so)
    expect(stdout).toContain('== streams: appends with an expected version, durable');
    expect(stdout).toMatch(/^appends with an expected version \/ plain append of the same bytes, 1 appender .*(yes|no)$/m);
    expect(stdout).toContain('== streams: goals');
    expect(stdout).toContain("== streams: shopping-cart commands through Emmett's CommandHandler, durable");
    // the backup suite, then a rebuild through the archive against the live log
    expect(stdout).toContain('== backup: a 2 MiB journal');
    expect(stdout).toContain('== archive: a projection rebuilt from offset 0 with');
    // the cluster suite runs where nats-server is installed (CI installs it): every row the issue names
    expect(stdout).toMatch(/== cluster: (relay into an R3 stream|skipped)/);
    if (stdout.includes('== cluster: relay into an R3 stream')) {
      expect(stdout).toContain('== cluster: read side, catch-up of a new machine, events/s');
      expect(stdout).toContain('== cluster: appendToStream with an expected version');
      expect(stdout).toMatch(/^cluster R3, 64 appenders/m);
      expect(stdout).toMatch(/^embedded \(immediate\), 64 appenders/m);
    }
    expect(stdout).toContain('smoke mode: results not written');
    expect(stderr).not.toMatch(/suite \S+ failed/);
  });

  it('rejects an unknown suite name with exit code 2', { timeout: 60_000 }, async () => {
    const { code, stderr } = await runBench(['--smoke', '--only', 'no-such-suite']);
    expect(code).toBe(2);
    expect(stderr).toContain('no suite named "no-such-suite"');
  });
});
