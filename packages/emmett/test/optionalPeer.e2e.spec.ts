import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnChild } from '../../wal/test/children/spawn.js';
import { tempDir } from './helpers.js';

const SRC = join(import.meta.dirname, '..', 'src');

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('@episteme/nats is an optional peer', () => {
  it('without it installed, the embedded store works and { nats } rejects with EMMETT_PEER_MISSING naming the package', async () => {
    const dir = tempDir();
    const child = spawnChild(join(import.meta.dirname, 'children', 'withoutNats.ts'), [dir]);
    const code = await child.exited;
    expect(code, child.stderr()).toBe(0);
    const out = JSON.parse(child.lines.at(-1)!) as { embeddedVersion: string; code: string; message: string };
    expect(out.embeddedVersion).toBe('1');
    expect(out.code).toBe('EMMETT_PEER_MISSING');
    expect(out.message).toContain('npm install @episteme/nats');
  }, 60_000);

  it('the sources import it only by type or by the dynamic import of { nats }', () => {
    // a statement may span lines: from `import`/`export` to `from '...'`, not through a `;`
    const statement = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'@episteme\/nats[^']*'/gm;
    const staticImports = sourceFiles(SRC).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(statement)].map((m) => `${file}: ${m[0].trim()}`));
    expect(sourceFiles(SRC).length).toBeGreaterThan(5);
    expect(staticImports).toEqual([]);
  });
});
