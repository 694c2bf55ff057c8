/**
 * The peers suite's memory check alone (peak RSS of a reader and of a
 * rebuild over a journal of GIB GiB, default 2, in child processes):
 *
 *   node --conditions=source --import tsx bench/memCheckOnce.mts [GIB]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryCheck } from './lib/peers/memory.js';
import { bundleChildren } from './lib/peers/children.js';
await bundleChildren();
const gib = Number(process.argv[2] ?? 2);
const base = mkdtempSync(join(tmpdir(), 'episteme-memcheck-'));
const table = await memoryCheck({ mode: 'full', tempDir: (p = 'x') => mkdtempSync(join(base, p)), report: () => {}, log: (m) => console.error(m) }, gib * 1024 * 1024 * 1024);
console.log(table.columns.join(' | '));
for (const r of table.rows) console.log(r.map((x) => (typeof x === 'number' ? x.toFixed(1) : x)).join(' | '));
rmSync(base, { recursive: true, force: true });
