/**
 * Crash-test child: runs an Emmett reactor over the store from its
 * checkpoint to the head, printing `seen <globalPosition>` as each event is
 * handled (stdout is a pipe: written before the next event), then `done`.
 * Args: dir.
 */
import { getEpistemeEventStore } from '../../src/index.js';

const [dir] = process.argv.slice(2) as [string];
const store = await getEpistemeEventStore({ dir });
const consumer = store.consumer({ stopWhen: { noMessagesLeft: true }, pulling: { batchSize: 8 } });
consumer.reactor({
  processorId: 'crash-reactor',
  eachMessage: async (e) => {
    process.stdout.write(`seen ${e.metadata.globalPosition}\n`);
    // a little work per event, so that kills land mid-run
    await new Promise((r) => setImmediate(r));
  },
});
process.stdout.write('ready\n');
await consumer.start();
await store.close();
process.stdout.write('done\n');
