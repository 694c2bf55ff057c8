/**
 * The install step that builds the native record check
 * (scripts/build-native.mjs) never fails an install: where it cannot build,
 * it says why on stderr, exits 0, and leaves a module built before as it
 * was (it builds into a temporary file and renames it over). Reads then
 * check record by record (test/recordRun.prop.spec.ts holds both equal).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const script = join(root, 'scripts', 'build-native.mjs');
const built = join(root, 'native', 'build', 'recordRun.node');

function runBuild(env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('building the native record check at install', () => {
  it('skipped on request: says so, exits 0', () => {
    const r = runBuild({ EPISTEME_NATIVE_BUILD: '0' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('native record check not built (EPISTEME_NATIVE_BUILD=0); reads use @node-rs/crc32 record by record');
  });

  it.runIf(process.arch === 'x64' && process.platform === 'linux')('a compiler that fails: says why, exits 0, leaves the module built before untouched and no partial file', () => {
    const before = existsSync(built) ? readFileSync(built) : undefined;
    const r = runBuild({ CC: 'false' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/native record check not built \(false failed/);
    if (before !== undefined) expect(readFileSync(built).equals(before)).toBe(true);
    expect(readdirSync(join(root, 'native', 'build')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.runIf(process.arch === 'x64' && process.platform === 'linux')('no compiler at all: says why, exits 0', () => {
    const r = runBuild({ CC: '/nonexistent/cc' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/native record check not built \(\/nonexistent\/cc failed: .*ENOENT/);
  });
});
