#!/usr/bin/env node
/**
 * Builds native/recordRun.c into native/build/recordRun.node at install
 * (the package's `install` script). It is optional and never fails an
 * install: where it cannot build (no C compiler, no Node headers, not x86-64
 * Linux or macOS, a directory it cannot write) it says why on stderr and
 * exits 0, and reads check record by record through @node-rs/crc32 instead,
 * with the same results at a lower speed. A module built before is left as
 * it was unless the new one is whole (built under a temporary name, then
 * renamed over it).
 *
 *   node scripts/build-native.mjs [--out <file>]
 *
 * `EPISTEME_NATIVE_BUILD=0` skips it; `CC` names the compiler (it may carry
 * arguments: `CC="ccache cc"`). Warnings do not fail the build here (a
 * user's compiler may warn where ours does not); `--strict` builds with
 * -Werror and exits 1 on failure (test/buildNative.int.spec.ts).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'recordRun.c');
const at = process.argv.indexOf('--out');
const out = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'native', 'build', 'recordRun.node');
const strict = process.argv.includes('--strict');

function skip(why) {
  process.stderr.write(`@episteme/wal: native record check not built (${why}); reads use @node-rs/crc32 record by record\n`);
  process.exit(strict ? 1 : 0);
}

try {
  build();
} catch (err) {
  skip(err instanceof Error ? err.message.split('\n')[0] : String(err));
}

function build() {
  if (process.env.EPISTEME_NATIVE_BUILD === '0') skip('EPISTEME_NATIVE_BUILD=0');
  if (process.arch !== 'x64' || (process.platform !== 'linux' && process.platform !== 'darwin')) skip(`built for x64 Linux and macOS only, this is ${process.arch} ${process.platform}`);
  if (!existsSync(source)) skip(`${source} is missing`);

  const headerDirs = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')]
    .filter((d) => d !== undefined && d !== '')
    .map((d) => join(d, 'include', 'node'));
  const headers = headerDirs.find((d) => existsSync(join(d, 'node_api.h')));
  if (headers === undefined) skip(`no node_api.h in ${headerDirs.join(' or ')}`);

  const [cc, ...ccArgs] = (process.env.CC || 'cc').trim().split(/\s+/);
  // macOS: x64 Node under Rosetta still needs an x86-64 module from a compiler that defaults to arm64
  const target = process.platform === 'darwin' ? ['-arch', 'x86_64', '-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
  mkdirSync(dirname(out), { recursive: true });
  const partial = `${out}.${randomUUID()}.tmp`;
  const flags = ['-O2', '-fPIC', '-fvisibility=hidden', '-Wall', ...(strict ? ['-Werror'] : []), `-I${headers}`];
  const built = spawnSync(cc, [...ccArgs, ...flags, ...target, source, '-o', partial], { encoding: 'utf8', timeout: 120_000 });
  if (built.error !== undefined || built.status !== 0) {
    rmSync(partial, { force: true });
    const said = (built.error?.message ?? built.stderr ?? '').trim().split('\n').slice(0, 3).join(' | ');
    skip(`${cc} failed: ${said || `exit ${built.status ?? built.signal}`}`);
  }
  try {
    renameSync(partial, out); // whole or not at all: a reader never loads a half-written module
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}
