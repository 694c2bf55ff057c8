import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStore } from '@episteme/store';
const N = 100000, C = 64;
const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const s = await openEventStore({ dir, groupCommit: true, durability: 'none' });
let n = 0;
const t = performance.now();
await Promise.all(Array.from({ length: C }, async (_, a) => {
  let v = 0;
  while (n++ < N) v = (await s.appendToStream(`order-${a}`, [{ type: 'Placed', data: { a: 1, i: 2, note: 'x'.repeat(40) } }], { expectedVersion: v })).nextExpectedVersion;
}));
console.log((N / (performance.now() - t) * 1000).toFixed(0));
await s.close();
rmSync(dir, { recursive: true, force: true });
