/**
 * Helpers for the CLI suites: run `episteme` as a user types it (a spawned
 * process) or in-process through runCli, in temporary data directories, and
 * fingerprint a data directory to prove that a refused command changed nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/main.js';

/** The repository root: spawned processes run here, as a user at the root of a checkout would. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI_ENTRY = join(REPO_ROOT, 'apps/demo/src/cli/bin.ts');
export const DEMO_ENTRY = join(REPO_ROOT, 'apps/demo/src/demo/runDemo.ts');
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A stack frame line as Node prints them (`    at fn (file:line:col)`). */
export const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

// ---- temporary directories

const temps: string[] = [];

export function tempDir(prefix = 'episteme-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
}

// ---- spawned processes

const live = new Set<ChildProcess>();

/**
 * At most this many CLI processes at once (per test file): a spawned run is
 * CPU-bound (tsx, module loading), so more than the machine's cores only
 * stretches every run towards its timeout.
 */
const SLOTS = Math.max(2, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function acquireSlot(): Promise<void> {
  if (running < SLOTS) {
    running++;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over as is
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** Environment of a spawned CLI: the parent's, without any EPISTEME_* setting that would change its defaults. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EPISTEME_')) env[k] = v;
  return { ...env, ...extra };
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Written to the child's stdin, then stdin is closed (closed at once when absent). */
  stdin?: string;
  timeoutMs?: number;
  /** Kills the child (SIGKILL) when aborted; the run then resolves with the signal. */
  signal?: AbortSignal;
  /** Told each piece of the child's stderr as it comes (to wait for a line while it runs). */
  onStderr?: (text: string) => void;
}

/** Runs a TypeScript entry point from source the way the README's commands do. */
export async function spawnTs(entry: string, args: readonly string[], options: SpawnOptions = {}): Promise<Run> {
  await acquireSlot();
  let child: ChildProcess;
  try {
    if (options.signal?.aborted) throw new Error('aborted before it started');
    child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    releaseSlot();
    throw err;
  }
  live.add(child);
  const kill = (): void => void child.kill('SIGKILL');
  options.signal?.addEventListener('abort', kill, { once: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    options.onStderr?.(s);
  });
  child.stdin!.on('error', () => undefined); // the child may exit before reading
  child.stdin!.end(options.stdin ?? '');
  const timeoutMs = options.timeoutMs ?? 45_000;
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      live.delete(child);
      options.signal?.removeEventListener('abort', kill);
      releaseSlot();
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (code, signal) => {
      done();
      if (timedOut) reject(new Error(`${entry} ${args.join(' ')} still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `episteme <args>` as typed at the repository root. */
export function episteme(args: readonly string[], options: SpawnOptions = {}): Promise<Run> {
  return spawnTs(CLI_ENTRY, args, options);
}

/**
 * `episteme` for one test of a concurrent suite: every child it started is
 * SIGKILLed when that test finishes (a global afterEach cannot tell
 * concurrent tests apart).
 */
export function epistemeFor(ctx: { onTestFinished(fn: () => void): void }): (args: readonly string[], options?: SpawnOptions) => Promise<Run> {
  const finished = new AbortController();
  ctx.onTestFinished(() => finished.abort());
  return (args, options = {}) => episteme(args, { ...options, signal: finished.signal });
}

/** SIGKILLs every child still running (afterEach of a sequential suite, afterAll of a concurrent one). */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

// ---- in-process

/** runCli in this process, with the given environment instead of process.env. */
export async function cli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run & { code: number }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stderrIsTTY: false, env });
  return { code, signal: null, stdout, stderr };
}

// ---- what is on disk

/** Bytes of records in the journal's segment files (the 32-byte headers left out). */
export function recordBytes(journal: string): number {
  try {
    return readdirSync(journal)
      .filter((n) => n.endsWith('.wal'))
      .reduce((sum, n) => sum + Math.max(0, statSync(join(journal, n)).size - 32), 0);
  } catch {
    return 0;
  }
}


/**
 * Every file (sha256 of its bytes) and directory under `dir`, by relative
 * path; null when `dir` does not exist.
 */
export function snapshotTree(dir: string): Record<string, string> | null {
  if (!existsSync(dir)) return null;
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (e.isDirectory()) {
        out[rel + '/'] = 'dir';
        walk(p);
      } else {
        out[rel] = createHash('sha256').update(readFileSync(p)).digest('hex');
      }
    }
  };
  walk(dir);
  return out;
}

/** Parses one JSON document from a command's stdout. */
export function json<T = unknown>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

/** The one non-empty line a refused command printed on stderr. */
export function oneLineError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('warning: '));
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${stderr}`);
  return lines[0]!;
}
