/**
 * Child process for the event consumer crash test: opens the store in
 * <dir>, runs consumer "worker" with runEventConsumer and prints what it is
 * handed before the handler returns (stdout to a pipe is synchronous on
 * Linux): `e <id>` per event, or `b <id,id,...>` per batch; `start <cursor>`
 * first, `idle` at the head.
 * argv: <dir> <commitEveryRecords> <event|batch> <slow|fast>
 */
import { openEventStore } from '@episteme/store';
import { writeLineSync } from '@episteme/wal/testing';
import { ConsumerRegistry, runEventConsumer } from '../../src/index.js';

const [dir, every, mode, pace] = process.argv.slice(2);
const store = await openEventStore({ dir: dir! });
const registry = ConsumerRegistry.forStore(store, { logger: { warn: (m) => process.stderr.write(m + '\n') } });
registry.register('worker');
writeLineSync(`start ${registry.get('worker').cursor}`);
// a timer where a slow run spends most of its time: in event mode between two events of one commit
// (the test's ids end in -<index in the commit>), so that most kills land inside a commit; before every batch
const breathe = async (id?: string): Promise<void> => {
  if (pace === 'slow' && (id === undefined || !id.endsWith('-0'))) await new Promise((r) => setTimeout(r, 1));
};
const common = { decoder: store.decoder(), commitEveryRecords: Number(every), stopAtHead: true } as const;
if (mode === 'batch') {
  await runEventConsumer(registry, 'worker', {
    ...common,
    batchSize: 2,
    batchHandler: async (events) => {
      await breathe();
      writeLineSync(`b ${events.map((e) => e.id).join(',')}`);
    },
  });
} else {
  await runEventConsumer(registry, 'worker', {
    ...common,
    handler: async (e) => {
      await breathe(e.id);
      writeLineSync(`e ${e.id}`);
    },
  });
}
writeLineSync('idle');
await store.close();
