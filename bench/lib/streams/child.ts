import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenChildArgs, OpenChildResult } from './openChild.js';

/**
 * Runs openChild.ts in a plain `node` process: bundled once per run with
 * esbuild (the sources of @episteme/* inlined through the `source`
 * condition, other packages left to node_modules), because tsx would add
 * its loader thread and transpiler (tens of MB) to the RSS being measured.
 * Same scheme as bench/lib/peers/children.ts.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'episteme-bench-streams', String(process.pid));
let bundled: Promise<string> | undefined;

function bundle(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    mkdirSync(OUT_DIR, { recursive: true });
    process.once('exit', () => rmSync(OUT_DIR, { recursive: true, force: true }));
    await esbuild.build({
      entryPoints: { openChild: join(import.meta.dirname, 'openChild.ts') },
      outdir: OUT_DIR,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      tsconfig: join(ROOT, 'tsconfig.json'),
      logLevel: 'error',
      plugins: [
        {
          name: 'external-packages',
          setup(build) {
            build.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@episteme/') ? undefined : { path: a.path, external: true }));
          },
        },
      ],
    });
    return join(OUT_DIR, 'openChild.mjs');
  })();
  return bundled;
}

/** Opens the store in a child (with --expose-gc, so that the RSS after the open is taken after a collection). */
export async function runOpenChild(args: OpenChildArgs): Promise<OpenChildResult> {
  const script = await bundle();
  const proc = spawn(process.execPath, ['--expose-gc', script, JSON.stringify(args)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  if (code !== 0) throw new Error(`openChild failed (code ${code}): ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as OpenChildResult;
}
