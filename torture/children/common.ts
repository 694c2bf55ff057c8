import { writeSync } from 'node:fs';

/**
 * Shared by the torture's child processes. A child prints one line per fact
 * on stdout and dies with its parent.
 *
 * Lines are written with a blocking write(2) on fd 1, not process.stdout:
 * once the pipe is full, process.stdout.write queues in the process and
 * returns, so a SIGKILL loses lines that "were printed" (measured: 74,000
 * lines written, 8,011 received). A line written here is in the kernel before
 * the next statement runs, so what it reports happened before any SIGKILL.
 */
const pause = new Int32Array(new SharedArrayBuffer(4));

export function out(line: string): void {
  const buf = Buffer.from(line + '\n');
  for (let done = 0; done < buf.length; ) {
    try {
      done += writeSync(1, buf, done);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1); // a non-blocking fd with a full pipe: wait for the reader
    }
  }
}

export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNTYPED';
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

export function describe(err: unknown): string {
  const name = err instanceof Error ? err.constructor.name : typeof err;
  return oneLine(`${name}: ${err instanceof Error ? err.message : String(err)}`);
}

/** Exits when the parent is gone (a SIGKILLed torture must not leave children behind). */
export function watchParent(): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 300).unref();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function configFromArgv<T>(): T {
  const raw = process.argv[2];
  if (!raw) {
    process.stderr.write('usage: <child>.ts <json config>\n');
    process.exit(2);
  }
  return JSON.parse(raw) as T;
}
