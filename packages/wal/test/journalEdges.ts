/**
 * What the journal's edge-case suites share: journal.writeFailures.int.spec.ts
 * (fsync failures, rollback after a failed write, segment creation) and
 * journal.readPaths.int.spec.ts (readers, directory durability and typed
 * errors, maxPayloadBytes lowered on reopen). The lock across network
 * namespaces is a documented limitation, not a guarantee (see
 * writerLock.ts), so no test asserts it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Journal } from '../src/index.js';
import type { SimulatedDisk } from '../src/testing/index.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
export const WAL_SRC = join(import.meta.dirname, '..', 'src', 'index.ts');

export { simDir } from './rng.js';

export function bytes(len: number, seed: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (seed * 131 + i * 7 + 1) & 0xff;
  return p;
}

/** Releases the writer lock without syncing anything (as a crash would). */
export async function crash(j: Journal, disk: SimulatedDisk): Promise<void> {
  disk.freeze();
  await j.close().catch(() => undefined);
}

export function runNode(script: string, args: string[], timeoutMs: number): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}
