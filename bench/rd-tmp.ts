import { Journal } from '@episteme/wal';
const dir = process.argv[2]!;
const j = await Journal.open({ dir, readOnly: true });
try {
  let n = 0;
  for await (const r of j.readFrom(j.earliest)) n++;
  console.log('read', n);
} catch (e: any) { console.log('ERR', e.code, e.message); }
await j.close();
