import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const CHILDREN = join(import.meta.dirname, '..', 'children');
const live = new Set<ChildProcess>();

/** SIGKILLs every child still running (on exit, SIGINT, SIGTERM). */
export function killAllChildren(): void {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A torture child (a file in torture/children/) run from source with tsx,
 * like the package tests' children. Each complete stdout line goes to
 * `onLine` as it arrives; stderr keeps its last few KiB for reports.
 */
export class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  private err = '';
  private partial = '';
  private readonly waiters = new Set<() => void>();
  private done = false;
  private readonly lines: string[] = [];
  private readonly taps = new Set<(line: string) => void>();

  constructor(
    readonly script: string,
    config: unknown,
    private readonly onLine: (line: string) => void,
    options: { keepLines?: boolean; execArgv?: string[]; cwd?: string } = {},
  ) {
    this.proc = spawn(process.execPath, [...(options.execArgv ?? []), '--conditions=source', '--import', 'tsx', join(CHILDREN, script), JSON.stringify(config)], {
      cwd: options.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    live.add(this.proc);
    const keep = options.keepLines === true;
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) {
        if (keep) this.lines.push(line);
        this.onLine(line);
        for (const t of this.taps) t(line);
      }
      for (const w of this.waiters) w();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.err = (this.err + chunk).slice(-4096);
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.proc.on('close', (code, signal) => {
        live.delete(this.proc);
        this.done = true;
        for (const w of this.waiters) w();
        resolve({ code, signal });
      });
    });
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return !this.done;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.done) this.proc.kill(signal);
  }

  /** Resolves with the first line from now on (or kept) matching `pred`; rejects when the child exits first or on timeout. */
  waitFor(pred: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const kept = this.lines.find(pred);
      if (kept !== undefined) return resolve(kept);
      const tap = (line: string): void => {
        if (pred(line)) finish(() => resolve(line));
      };
      const onExit = (): void => {
        if (this.done) finish(() => reject(new Error(`${this.script} exited before the expected line; stderr: ${this.err.slice(-1500)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.script}: timed out after ${timeoutMs} ms waiting for a line; stderr: ${this.err.slice(-1500)}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        this.taps.delete(tap);
        this.waiters.delete(onExit);
        f();
      };
      this.taps.add(tap);
      this.waiters.add(onExit);
      onExit();
    });
  }

  /** Waits for the exit, SIGKILLing the child after `timeoutMs`; `hung` tells whether that was needed. */
  async exit(timeoutMs: number): Promise<Exit & { hung: boolean }> {
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      this.kill('SIGKILL');
    }, timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return { ...result, hung };
  }
}
