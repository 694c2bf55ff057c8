import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installPeers, staleInstall } from '../lib/peers/install.js';

/**
 * When the bench installs bench/peers: whenever a dependency its lockfile
 * names is missing or at another version (an install from before a peer was
 * added or bumped), and never in smoke mode. Checked on a package laid out
 * in a temp directory, never on the real bench/peers.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A bench/peers look-alike: a manifest and lockfile naming `deps`, and node_modules holding `installed`. */
function peersPackage(deps: Record<string, string>, installed?: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-bench-peers-install-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'peers', private: true, dependencies: deps }));
  const packages = Object.fromEntries(Object.entries(deps).map(([name, version]) => [`node_modules/${name}`, { version }]));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: { '': {}, ...packages } }));
  if (installed !== undefined) {
    mkdirSync(join(dir, 'node_modules'));
    for (const [name, version] of Object.entries(installed)) {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
    }
  }
  return dir;
}

describe('staleInstall', () => {
  it('is undefined when every dependency is installed at the version the lockfile names', () => {
    const dir = peersPackage({ 'better-sqlite3': '12.11.1', '@scope/store': '0.42.0' }, { 'better-sqlite3': '12.11.1', '@scope/store': '0.42.0' });
    expect(staleInstall(dir)).toBeUndefined();
  });

  it('says so when bench/peers has no node_modules', () => {
    expect(staleInstall(peersPackage({ 'better-sqlite3': '12.11.1' }))).toBe('it has no node_modules');
  });

  it('names a dependency added since the last install', () => {
    const dir = peersPackage({ '@scope/store': '0.42.0', 'classic-level': '3.0.0' }, { '@scope/store': '0.42.0' });
    expect(staleInstall(dir)).toBe('classic-level is not installed');
  });

  it('names a dependency installed at another version than the lockfile', () => {
    const dir = peersPackage({ 'better-sqlite3': '12.11.1' }, { 'better-sqlite3': '12.10.0' });
    expect(staleInstall(dir)).toBe('better-sqlite3 12.10.0 is installed, the lockfile names 12.11.1');
  });
});

describe('installPeers', () => {
  it('in smoke mode installs nothing and returns why the peers are skipped', () => {
    const dir = peersPackage({ 'better-sqlite3': '12.11.1' });
    const logged: string[] = [];
    const why = installPeers('smoke', (m) => logged.push(m), dir);
    expect(why).toContain('it has no node_modules');
    expect(why).toContain('smoke mode does not run');
    expect(logged).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['package-lock.json', 'package.json']);
  });

  it('does nothing when the install is current, whatever the mode', () => {
    const dir = peersPackage({ 'better-sqlite3': '12.11.1' }, { 'better-sqlite3': '12.11.1' });
    const logged: string[] = [];
    for (const mode of ['smoke', 'quick', 'full'] as const) expect(installPeers(mode, (m) => logged.push(m), dir)).toBeUndefined();
    expect(logged).toEqual([]);
  });
});
