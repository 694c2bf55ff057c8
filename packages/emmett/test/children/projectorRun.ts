/**
 * Crash-test child: runs an Emmett reactor over the store from its
 * checkpoint to the head, printing `seen <globalPosition>` as each event is
 * handled, then `done`. The line is in the pipe when the handler returns
 * (writeLineSync): `process.stdout.write` to a pipe queues in the process
 * and returns, so a SIGKILL lost the lines of events handled, and
 * checkpointed, just before it (measured: 2,780 lines received of 3,014
 * handled), and the test took a sound restart for a skipped event.
 * Args: dir.
 */
import { writeLineSync } from '@episteme/wal/testing';
import { getEpistemeEventStore } from '../../src/index.js';

const [dir] = process.argv.slice(2) as [string];
const store = await getEpistemeEventStore({ dir });
const consumer = store.consumer({ stopWhen: { noMessagesLeft: true }, pulling: { batchSize: 8 } });
consumer.reactor({
  processorId: 'crash-reactor',
  eachMessage: async (e) => {
    writeLineSync(`seen ${e.metadata.globalPosition}`);
    // a little work per event, so that kills land mid-run
    await new Promise((r) => setImmediate(r));
  },
});
writeLineSync('ready');
await consumer.start();
await store.close();
writeLineSync('done');
