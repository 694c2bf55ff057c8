import { afterEach, describe, it } from 'vitest';
import { getEpistemeEventStore, type EpistemeEventStore } from '../src/index.js';
import { checkConcurrentWithoutRetry, checkConcurrentWithRetry } from './commandHandlerChecks.js';
import { tempDir } from './helpers.js';

const opened: EpistemeEventStore[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

async function embedded(): Promise<EpistemeEventStore> {
  const adapter = await getEpistemeEventStore({ dir: tempDir(), groupCommit: true });
  opened.push(adapter);
  return adapter;
}

describe('CommandHandler on the adapter under concurrency', () => {
  it('32 concurrent commands on 4 carts without retry: one winner per version, every loser Emmett ExpectedVersionConflictError, the final states those of a sequential replay', async () => {
    await checkConcurrentWithoutRetry(await embedded());
  });

  it('32 concurrent commands on 4 carts with Emmett retry on version conflicts: all succeed, every conflict seen was Emmett class, the final states those of a sequential replay', async () => {
    await checkConcurrentWithRetry(await embedded());
  });
});
