import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
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
  stderr: () => string;
  /** Resolves when a line matching `pred` arrives (rejects if the child exits first). */
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/**
 * Runs a TypeScript child (a file in test/children/, or an absolute path) from source, no build
 * needed, with piped stdio. `prefix` runs it through a command that execs it
 * (`unshare --net`: the child keeps the pid the parent sees).
 */
export function spawnChild(script: string, args: string[], prefix: string[] = []): Child {
  const argv = [process.execPath, '--conditions=source', '--import', 'tsx', resolve(import.meta.dirname, script), ...args];
  const command = [...prefix, ...argv];
  const proc = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners) l();
  });
  proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      live.delete(proc);
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  const waitFor = (pred: (line: string) => boolean, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.find(pred);
        if (hit !== undefined) {
          cleanup();
          resolve(hit);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          cleanup();
          reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) before the expected line; stderr: ${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a line; stderr: ${err}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { proc, lines, stderr: () => err, waitFor, exited };
}
