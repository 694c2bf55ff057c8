// A relay in its own process, for the kill tests: ships a journal (read-only) into a stream and prints its progress.
import { Journal } from '@episteme/wal';
import { runRelay } from '../../src/index.js';

const [dir, servers, stream] = process.argv.slice(2) as [string, string, string];
const reader = await Journal.openForRead({ dir });
console.log('ready');
const result = await runRelay(reader, {
  servers: servers.split(','),
  stream,
  window: 256,
  progressEveryMs: 50,
  onProgress: (p) => console.log(`progress ${p.shipped} ${p.position}`),
});
console.log(`done ${result.shipped} ${result.position}`);
await reader.close();
