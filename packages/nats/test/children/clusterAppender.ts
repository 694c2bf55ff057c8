// An app process appending through the cluster store: for each round, reads a stream's version and appends with it as expected version.
import { isStoreError } from '@episteme/store';
import { openEventStore } from '../../src/index.js';

import { existsSync } from 'node:fs';

const [servers, stream, name, rounds, streams, goFile] = process.argv.slice(2) as [string, string, string, string, string, string];
const store = await openEventStore({ nats: { servers: servers.split(','), stream } });
console.log('ready');
// both processes start once both are open (the parent creates goFile then: a fixed start time raced
// a slow open under load, and one process ran alone), and think a little between reading and appending,
// as an app deciding does: they race
while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 2));
let wins = 0;
let conflicts = 0;
for (let i = 0; i < Number(rounds); i++) {
  const target = `account-${i % Number(streams)}`;
  const { currentVersion } = await store.readStream(target, { maxCount: 0 });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
  try {
    const result = await store.appendToStream(target, [{ type: 'Deposited', data: { by: name, round: i }, id: `${name}-${i}` }], { expectedVersion: currentVersion });
    wins++;
    console.log(`won ${target} ${result.nextExpectedVersion} ${name}-${i}`);
  } catch (error) {
    if (!isStoreError(error, 'STORE_VERSION_CONFLICT')) throw error;
    conflicts++;
    console.log(`conflict ${target} ${currentVersion}`);
  }
}
console.log(`done ${wins} ${conflicts}`);
await store.close();
