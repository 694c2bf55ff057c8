/**
 * Torture consumer process: a read-only journal, the registry, and one
 * consumer delivering records at least once. Prints:
 *   start <cursor>           where it starts (its durable cursor)
 *   h <offset> <next>        the handler finished this record
 *   c <cursor>               a cursor commit returned (durable)
 *   fail <code> <message>    the run stopped as failed
 *   e <code> <message>       any other error
 */
import { ConsumerRegistry, runConsumer } from '@episteme/consumers';
import { Journal, type JournalRecord } from '@episteme/wal';
import type { ConsumerConfig } from '../lib/childConfig.js';
import { Rng } from '../lib/rng.js';
import { codeOf, configFromArgv, describe, oneLine, out, sleep, watchParent } from './common.js';

watchParent();
const cfg = configFromArgv<ConsumerConfig>();
const rng = new Rng(cfg.seed);

const journal = await Journal.openForRead({ dir: cfg.dir, pollIntervalMs: cfg.pollIntervalMs });
const registry = new ConsumerRegistry(journal, { logger: { warn: (m) => out(`warn ${oneLine(m)}`) } });
// acknowledgements of durable cursor writes, seen from outside the runner
const store = registry.store;
const write = store.write.bind(store);
store.write = (state) => {
  write(state);
  if (state.name === cfg.name) out(`c ${state.cursor}`);
};

const start = registry.get(cfg.name).cursor;
out(`start ${start}`);
let handled = 0;

async function handle(rec: JournalRecord): Promise<void> {
  if (cfg.slowEvery > 0 && ++handled % cfg.slowEvery === 0) await sleep(rng.int(1, 20));
  out(`h ${rec.offset} ${rec.next}`);
}

try {
  if (cfg.mode === 'manual') {
    let cursor = start;
    for (;;) {
      const batch = journal.readMany(cursor, cfg.batchSize);
      if (batch.length === 0) {
        await journal.waitBeyond(cursor);
        continue;
      }
      for (const rec of batch) await handle(rec);
      cursor = batch[batch.length - 1]!.next;
      registry.commit(cfg.name, cursor);
    }
  } else {
    const result = await runConsumer(registry, cfg.name, {
      ...(cfg.mode === 'batch'
        ? {
            batchHandler: async (records: JournalRecord[]) => {
              for (const rec of records) await handle(rec);
            },
          }
        : { handler: handle }),
      batchSize: cfg.batchSize,
      commitEveryRecords: cfg.commitEveryRecords,
      commitEveryMs: cfg.commitEveryMs,
    });
    if (result.state === 'failed') out(`fail ${codeOf(result.error)} ${describe(result.error)}`);
  }
} catch (err) {
  out(`e ${codeOf(err)} ${describe(err)}`);
}
await journal.close();
