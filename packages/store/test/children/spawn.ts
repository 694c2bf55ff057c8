import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const live = new Set<ChildProcess>();

afterEach(() => {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
});

export interface Child {
  proc: ChildProcess;
  /** Complete stdout lines so far. */
  lines: string[];
  /** Resolves with the first line matching `pred` (rejects when the child exits first or on timeout). */
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** Runs a TypeScript child of test/children from source (no build), stdout piped and split into lines. */
export function spawnChild(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, script), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const wake = new Set<() => void>();
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of wake) w();
  });
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      live.delete(proc);
      for (const w of wake) w();
      resolve(code);
    }),
  );
  const waitFor = (pred: (line: string) => boolean, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        wake.delete(check);
      };
      const check = (): void => {
        const hit = lines.find(pred);
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          done();
          reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) first; stderr: ${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for a line; stderr: ${stderr}`));
      }, timeoutMs);
      wake.add(check);
      check();
    });
  return { proc, lines, waitFor, exited };
}
