import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, nodeFileIO, type FileIO } from '../packages/wal/src/index.ts';
import { ConsumerRegistry, runConsumer } from '../packages/consumers/src/index.ts';
const dir = mkdtempSync(join(tmpdir(), 'cexp-'));
const j = await Journal.open({ dir, durability: 'none' });
const p = new Uint8Array(256);
for (let i = 0; i < 200; i++) await j.appendBatch(Array.from({ length: 1000 }, () => p));
const t: Record<string, number> = {};
const c: Record<string, number> = {};
const wrap = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A): R => { const t0 = performance.now(); try { return f(...a); } finally { t[name] = (t[name] ?? 0) + performance.now() - t0; c[name] = (c[name] ?? 0) + 1; } };
const io: FileIO = { ...nodeFileIO, open: wrap('open', nodeFileIO.open), write: wrap('write', nodeFileIO.write), close: wrap('close', nodeFileIO.close), rename: wrap('rename', nodeFileIO.rename), read: wrap('read', nodeFileIO.read), readdir: wrap('readdir', nodeFileIO.readdir), fsync: wrap('fsync', nodeFileIO.fsync), syncDir: wrap('syncDir', nodeFileIO.syncDir) };
const reg = new ConsumerRegistry(j, { io, autoCleanup: false });
for (let r = 0; r < 3; r++) {
  for (const k of Object.keys(t)) { t[k] = 0; c[k] = 0; }
  reg.register('x'); reg.reset('x', 0);
  const t0 = performance.now();
  const res = await runConsumer(reg, 'x', { handler: () => undefined, stopAtHead: true });
  const ms = performance.now() - t0;
  console.log(res.handled, ms.toFixed(0), 'ms', Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(1)}ms/${c[k]}`).join(' '));
}
await j.close();
