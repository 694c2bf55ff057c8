import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, REPO_ROOT, recordBytes, removeTempDirs, tempDir } from './cliHelpers.js';

afterAll(removeTempDirs);

function lines(from: number, count: number): string {
  let s = '';
  for (let i = from; i < from + count; i++) {
    s += JSON.stringify({ subject: `s${i}`, predicate: 'colour', object: 'blue', confidence: 0.5, source: 'pipe' }) + '\n';
  }
  return s;
}

describe('episteme import - from a pipe that never closes', () => {
  it('ends with exit 1 when an append fails partway: it stops reading its input instead of waiting on it', { timeout: 60_000 }, async () => {
    const data = tempDir();
    const journal = join(data, 'journal');
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_ENTRY, '--data', data, '--segment-bytes', '1024', 'import', '--workers', '2', '-'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout.resume();
    child.stdin.on('error', () => undefined); // the child stops reading: later writes may fail
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // a first batch lands in the journal (past 2000 lines: the workers start and take part)
      child.stdin.write(lines(0, 2500));
      const deadline = Date.now() + 30_000;
      while (recordBytes(journal) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(recordBytes(journal), `the first batch never landed\n${stderr}`).toBeGreaterThan(0);
      // the journal's directory goes away under the writer: the next batch
      // needs a new segment (1 KiB segments) and its creation fails
      // removed once the import has appended all it was sent (a pipe's lines are appended as it pauses):
      // a writer still making 1 KiB segments would race the removal (ENOTEMPTY)
      for (let last = -1, now = recordBytes(journal); now !== last && Date.now() < deadline; last = now, now = recordBytes(journal)) {
        await new Promise((r) => setTimeout(r, 500));
      }
      rmSync(journal, { recursive: true, force: true });
      child.stdin.write(lines(2500, 1000));
      // stdin is never ended: only the command's own stop can end the process
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 40_000)))]);
      clearTimeout(timer);
      expect(code, `the import kept waiting on its input after the failed append\n${stderr}`).toBe(1);
      expect(stderr).toMatch(/^episteme import: .*ENOENT/m);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
