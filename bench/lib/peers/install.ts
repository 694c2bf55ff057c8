import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mode } from '../types.js';

/**
 * bench/peers: a package of its own (its own package-lock.json) holding the
 * stores the benchmark compares Episteme with: better-sqlite3 and
 * classic-level for the peers suite, Emmett's SQLite and PostgreSQL stores
 * for the streams suite. The repository's `npm ci` never installs them (two
 * native builds from source on a machine without prebuilt binaries); the
 * first suite that needs them runs `npm ci --prefix bench/peers`.
 */
export const PEERS_DIR = join(import.meta.dirname, '..', '..', 'peers');

/** Env variable naming bench/peers for the peers suite's bundled children, which run from elsewhere (children.ts). */
export const PEERS_DIR_ENV = 'EPISTEME_BENCH_PEERS_DIR';

/** Where bench/peers is: the env variable in a bundled child, else beside this module. */
export function peersDir(): string {
  return process.env[PEERS_DIR_ENV] ?? PEERS_DIR;
}

function version(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Why bench/peers needs `npm ci`: a dependency missing from its
 * node_modules or at another version than its lockfile names (an install
 * from before a dependency was added or bumped); undefined when it is
 * current.
 */
export function staleInstall(dir = PEERS_DIR): string | undefined {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  if (!existsSync(join(dir, 'node_modules'))) return 'it has no node_modules';
  for (const name of Object.keys(manifest.dependencies)) {
    const want = lock.packages[`node_modules/${name}`]?.version;
    const have = version(join(dir, 'node_modules', name, 'package.json'));
    if (have === undefined) return `${name} is not installed`;
    if (have !== want) return `${name} ${have} is installed, the lockfile names ${want}`;
  }
  return undefined;
}

/**
 * Makes bench/peers current: runs `npm ci --prefix bench/peers` when
 * staleInstall says so, except in smoke mode, which never installs (CI
 * needs nothing past the main install; the peers' rows are skipped there).
 * Returns undefined when the peers are installed, else why they are not,
 * for the note of the tables that go without them.
 */
export function installPeers(mode: Mode, log: (m: string) => void, dir = PEERS_DIR): string | undefined {
  const stale = staleInstall(dir);
  if (stale === undefined) return undefined;
  if (mode === 'smoke') return `bench/peers needs \`npm ci --prefix bench/peers\` (${stale}), which smoke mode does not run; the other modes run it first`;
  log(`bench/peers needs \`npm ci\` (${stale}): running \`npm ci --prefix bench/peers\` (once; a few minutes where better-sqlite3 and sqlite3 build from source)`);
  // stdout holds only the tables
  const r = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) return `\`npm ci --prefix bench/peers\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`;
  const still = staleInstall(dir);
  return still === undefined ? undefined : `bench/peers is still not current after \`npm ci\` (${still})`;
}

/** For the profile scripts run by hand: installs bench/peers as a full run would, or throws why it could not. */
export function installPeersOrThrow(): void {
  const notInstalled = installPeers('full', (m) => console.error(m));
  if (notInstalled !== undefined) throw new Error(notInstalled);
}
