import { writeLineSync } from '@episteme/wal/testing';
import { codeOf as codeOfError } from '@episteme/wal/internals';

// the one sleep of the packages, under the name the torture's modules import
export { sleep } from '@episteme/wal/internals';

/**
 * Shared by the torture's child processes. A child prints one line per fact
 * on stdout and dies with its parent. Lines go out with a blocking write(2)
 * (writeLineSync), not process.stdout: a line written is in the kernel
 * before the next statement runs, so what it reports happened before any
 * SIGKILL.
 */
export function out(line: string): void {
  writeLineSync(line);
}

export function codeOf(err: unknown): string {
  return codeOfError(err) ?? 'UNTYPED';
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

export function configFromArgv<T>(): T {
  const raw = process.argv[2];
  if (!raw) {
    process.stderr.write('usage: <child>.ts <json config>\n');
    process.exit(2);
  }
  return JSON.parse(raw) as T;
}
