import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PEERS_DIR_ENV, peersDir } from './install.js';

/**
 * Child processes of the peers suite. Their sources are bundled once per
 * run with esbuild (the one tsx brings) into plain JavaScript and run with
 * plain `node`: tsx would add its loader thread and transpiler to every
 * child (~35-50 MB of RSS, which the memory check must not count, and a
 * second of start-up). @episteme/* are bundled from their sources (the
 * `source` condition, as the harness runs them); every other package stays
 * external and loads from node_modules, which is why the bundles are
 * written under node_modules/.cache; better-sqlite3 and classic-level load
 * from bench/peers, which an env variable names to the children (their
 * bundles do not sit where drivers.ts does). Every child is tracked and
 * killed when the benchmark exits, whatever the reason. The checksum
 * worker of @episteme/wal is a file of its own that the wal finds at
 * `../../worker/` from its code: the bundles sit two levels below a copy
 * of it, so that their reads go through the worker as the library's do.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Per process: two benchmark runs at once (the smoke test and a run by hand) must not share bundles. */
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'episteme-bench-peers', String(process.pid));
const OUT_DIR = join(CACHE_DIR, 'bundle', 'children');
const ENTRIES = ['crashChild', 'memoryChild'] as const;
export type ChildScript = (typeof ENTRIES)[number];

const live = new Set<ChildProcess>();
let hooked = false;
let bundled: Promise<void> | undefined;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(CACHE_DIR, { recursive: true, force: true });
  });
}

/** Bundles the child entry points (once per process). */
export function bundleChildren(): Promise<void> {
  hookExit();
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    mkdirSync(OUT_DIR, { recursive: true });
    mkdirSync(join(CACHE_DIR, 'worker'));
    copyFileSync(join(ROOT, 'packages', 'wal', 'worker', 'checksumWorker.js'), join(CACHE_DIR, 'worker', 'checksumWorker.js'));
    await esbuild.build({
      entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, join(import.meta.dirname, `${e}.ts`)])),
      outdir: OUT_DIR,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      tsconfig: join(ROOT, 'tsconfig.json'),
      logLevel: 'error',
      plugins: [
        {
          name: 'external-packages',
          setup(build) {
            // Bare imports other than the workspace packages load from node_modules at run time.
            build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@episteme/') ? undefined : { path: args.path, external: true }));
          },
        },
      ],
    });
  })();
  return bundled;
}

export interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line equal to `line`; rejects if the child exits first. */
  waitForLine(line: string, timeoutMs: number): Promise<void>;
  /** Resolves when the child has exited: its code, signal and output. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts a bundled child (call bundleChildren first). */
export function startChild(script: ChildScript, arg: unknown): Child {
  hookExit();
  const proc = spawn(process.execPath, [join(OUT_DIR, `${script}.mjs`), JSON.stringify(arg)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', [PEERS_DIR_ENV]: peersDir() },
  });
  live.add(proc);
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of [...waiters]) {
      if (stdout.split('\n').includes(w.line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    proc,
    exited,
    waitForLine: (line, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.split('\n').includes(line)) return resolve();
        const timer = setTimeout(() => reject(new Error(`${script}: no "${line}" within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({
          line,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${script} exited (code ${code}, signal ${signal}) before "${line}"; stderr: ${stderr}`));
        });
      }),
  };
}

/** Runs a child to its end and parses the last stdout line as JSON. */
export async function runJsonChild<T>(script: ChildScript, arg: unknown): Promise<T> {
  const child = startChild(script, arg);
  child.proc.stdin!.end();
  const { code, signal, stdout, stderr } = await child.exited;
  if (code !== 0) throw new Error(`${script} failed (code ${code}, signal ${signal}): ${stderr}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
