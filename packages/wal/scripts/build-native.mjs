#!/usr/bin/env node
/**
 * Builds native/recordRun.c into native/build/recordRun.node at install
 * (the package's `install` script). It is optional: where it cannot be
 * built (no C compiler, no Node headers, not x86-64 Linux or macOS) this
 * says why on stderr and exits 0, and reads check record by record through
 * @node-rs/crc32 instead, with the same results at a lower speed.
 * `EPISTEME_NATIVE_BUILD=0` skips it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'recordRun.c');
const outDir = join(root, 'native', 'build');
const out = join(outDir, 'recordRun.node');

function skip(why) {
  process.stderr.write(`@episteme/wal: native record check not built (${why}); reads use @node-rs/crc32 record by record\n`);
  process.exit(0);
}

if (process.env.EPISTEME_NATIVE_BUILD === '0') skip('EPISTEME_NATIVE_BUILD=0');
if (process.arch !== 'x64' || (process.platform !== 'linux' && process.platform !== 'darwin')) skip(`built for x64 Linux and macOS only, this is ${process.arch} ${process.platform}`);
if (!existsSync(source)) skip(`${source} is missing`);

const headerDirs = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')]
  .filter((d) => d !== undefined && d !== '')
  .map((d) => join(d, 'include', 'node'));
const headers = headerDirs.find((d) => existsSync(join(d, 'node_api.h')));
if (headers === undefined) skip(`no node_api.h in ${headerDirs.join(' or ')}`);

const cc = process.env.CC || 'cc';
const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
mkdirSync(outDir, { recursive: true });
const partial = `${out}.${process.pid}.tmp`;
const built = spawnSync(cc, ['-O2', '-fPIC', '-fvisibility=hidden', '-Wall', '-Werror', `-I${headers}`, ...link, source, '-o', partial], { encoding: 'utf8' });
if (built.error !== undefined || built.status !== 0) {
  rmSync(partial, { force: true });
  const said = (built.error?.message ?? built.stderr ?? '').trim().split('\n').slice(0, 3).join(' | ');
  skip(`${cc} failed: ${said}`);
}
renameSync(partial, out); // whole or not at all: a reader never loads a half-written module
