import { EmmettAdapterError, EmmettAdapterErrorCodes } from '../errors.js';

/**
 * Loads an optional peer package by dynamic import, so that a user who
 * never asks for it need not install it. Its absence becomes a typed
 * EMMETT_PEER_MISSING naming the package and what needs it; any other
 * failure of the import (a broken install) passes through.
 */
export async function loadPeer<T>(name: string, neededFor: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, name)) throw error;
    throw new EmmettAdapterError(EmmettAdapterErrorCodes.PeerMissing, `${neededFor} needs the package ${name}, which is not installed: npm install ${name}`, { cause: error });
  }
}

/** Node's "cannot find package" for this name (ESM or CommonJS resolution, or vite's in tests). */
function isMissingPackage(error: unknown, name: string): boolean {
  if (!(error instanceof Error) || !error.message.includes(name)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /cannot find (package|module)|failed to (load|resolve)/i.test(error.message);
}
