/**
 * The demo's crash victim: a writer process that appends assertions from
 * several concurrent producers with group commit and prints `ack <global position> <id>`
 * only after each append resolved (stdout to a pipe is synchronous on Linux,
 * so every printed line was durable before any SIGKILL could land).
 * argv: <dataDir> <producers>
 */
import 'reflect-metadata';
import { container } from 'tsyringe';
import { appOf, wire } from '../app/container.js';
import { resolveConfig } from '../app/config.js';
import { assertionInput } from './generate.js';
import { writeLineSync } from '@episteme/wal/testing';

const [dataDir, producers] = process.argv.slice(2);
const child = container.createChildContainer();
await wire(child, resolveConfig({ dataDir, groupCommit: true, durability: 'immediate' }), { logger: { warn: () => undefined } });
const { service } = appOf(child);
writeLineSync('ready');
await Promise.all(
  Array.from({ length: Number(producers) }, async (_, p) => {
    for (let i = 0; ; i++) {
      const r = await service.assert(assertionInput(1_000_000 + p * 100_000 + i, p), `crash-producer-${p}`);
      writeLineSync(`ack ${r.globalPosition} ${r.id}`);
    }
  }),
);
