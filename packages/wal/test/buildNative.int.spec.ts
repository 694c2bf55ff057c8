/**
 * The install step that builds the native record check
 * (scripts/build-native.mjs) never fails an install: where it cannot build,
 * it says why on stderr, exits 0, and leaves a module built before as it
 * was (it builds into a temporary file and renames it over). Reads then
 * check record by record (test/recordRun.prop.spec.ts holds both equal).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRecord } from '../src/format/record.js';
import type { VerifyRun } from '../src/internals.js';
import { tempDir } from './helpers.js';

const root = join(import.meta.dirname, '..');
const script = join(root, 'scripts', 'build-native.mjs');
const built = join(root, 'native', 'build', 'recordRun.node');

function runBuild(env: Record<string, string>, args: string[] = []): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const linuxX64 = process.arch === 'x64' && process.platform === 'linux';

describe('building the native record check at install', () => {
  it('skipped on request: says so, exits 0', () => {
    const r = runBuild({ EPISTEME_NATIVE_BUILD: '0' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('native record check not built (EPISTEME_NATIVE_BUILD=0); reads use @node-rs/crc32 record by record');
  });

  it.runIf(linuxX64)('a compiler that fails: says why, exits 0, leaves the module built before untouched and no partial file', () => {
    const before = existsSync(built) ? readFileSync(built) : undefined;
    const r = runBuild({ CC: 'false' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/native record check not built \(false failed/);
    if (before !== undefined) expect(readFileSync(built).equals(before)).toBe(true);
    expect(readdirSync(join(root, 'native', 'build')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.runIf(linuxX64)('builds a module that loads and checks records (warnings as errors; the compiler given with arguments)', () => {
    const out = join(tempDir(), 'recordRun.node');
    const r = runBuild({ CC: 'env cc' }, ['--out', out, '--strict']);
    expect(r, r.stderr).toMatchObject({ status: 0, stderr: '' });
    const { verifyRun, abi } = createRequire(import.meta.url)(out) as { verifyRun: VerifyRun; abi: number };
    expect(abi).toBe(2); // what src/checksum/recordRun.ts loads
    const bytes = Buffer.concat([encodeRecord(new Uint8Array(300)), encodeRecord(new Uint8Array(5))]);
    expect(verifyRun(bytes, 0, bytes.length, bytes.length, 1000, 10)).toBe(bytes.length);
    bytes[100]! ^= 1;
    expect(verifyRun(bytes, 0, bytes.length, bytes.length, 1000, 10)).toBe(0);
  });

  it.runIf(linuxX64)('a place it cannot write: says why, exits 0', () => {
    // a file where its directory would be (root writes anywhere else, as CI runs)
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const r = runBuild({}, ['--out', join(file, 'build', 'recordRun.node')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^@episteme\/wal: native record check not built \(.*(ENOTDIR|EEXIST).*\); reads use @node-rs\/crc32 record by record\n$/);
  });

  it.runIf(linuxX64)('no compiler at all: says why, exits 0', () => {
    const r = runBuild({ CC: '/nonexistent/cc' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/native record check not built \(\/nonexistent\/cc failed: .*ENOENT/);
  });
});
