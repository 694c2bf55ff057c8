import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** The repository's root (this file is in scripts/). */
export const REPO_ROOT = join(import.meta.dirname, '..');

/**
 * Runs one of the repository's TypeScript entry points (`bench/index.ts`,
 * `torture/index.ts`) as the root scripts do, for the smoke tests: Node is
 * spawned directly, not through npm, so that the SIGTERM sent when a test
 * ends early (timeout, failure) reaches the script itself, which then
 * cleans up (temp journals, children, a tmpfs); npm would leave it running
 * as a grandchild. Registers that clean-up with the calling test file.
 */
export function repoScriptRunner(): (entry: string, args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }> {
  let child: ChildProcess | undefined;
  afterEach(() => {
    // SIGTERM, not SIGKILL: the scripts clean up on SIGTERM
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    child = undefined;
  });
  return (entry, args) =>
    new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry, ...args], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      child = proc;
      let stdout = '';
      let stderr = '';
      proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      proc.on('error', reject);
      proc.on('close', (code) => resolve({ code, stdout, stderr }));
    });
}
