/**
 * The adapter in a process where @episteme/nats cannot be resolved (as for
 * an Emmett user who never installed it): a resolve hook registered before
 * the adapter is imported refuses the package as Node does for a missing
 * one. Prints one JSON line: whether the embedded store worked, the error of
 * `{ nats }`, and whether anything tried to load the package before that.
 */
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier === '@episteme/nats' || specifier.startsWith('@episteme/nats/')) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const dir = process.argv[2]!;
const { getEpistemeEventStore } = await import('../../src/index.js');
const embedded = await getEpistemeEventStore({ dir });
await embedded.appendToStream('cart-1', [{ type: 'Added', data: { n: 1 } }]);
const version = (await embedded.readStream('cart-1')).currentStreamVersion;
await embedded.close();
const refused = await getEpistemeEventStore({ nats: { servers: ['nats://127.0.0.1:4222'], stream: 'carts' } }).catch((e: unknown) => e as { code?: string; message?: string });
console.log(JSON.stringify({ embeddedVersion: String(version), code: (refused as { code?: string }).code, message: (refused as { message?: string }).message }));
