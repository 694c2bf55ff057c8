/**
 * The projections' side of the contract suite: an engine over each log of
 * the consumers' suite (a journal, an InMemoryLog), its snapshots where an
 * app keeps them (files in the journal's directory; a store in memory that
 * outlives a reopen of the memory log).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileSnapshotStore, InMemorySnapshotStore, ProjectionEngine, type EngineOptions, type SnapshotStore } from '../../src/index.js';
import { diskImage } from '../helpers.js';
import type { Subject } from '../../../consumers/test/contract/subjects.js';

export { LOGS, type LogKind, type Subject } from '../../../consumers/test/contract/subjects.js';

const memoryStores = new WeakMap<object, InMemorySnapshotStore>();

/** Where a subject's snapshots live: files in a journal's directory (as ProjectionEngine.forJournal puts them), or one store per memory log. */
export function snapshotsOf(h: Subject): SnapshotStore {
  if (h.dir !== undefined) return new FileSnapshotStore(h.dir);
  let store = memoryStores.get(h.lineage);
  if (!store) memoryStores.set(h.lineage, (store = new InMemorySnapshotStore()));
  return store;
}

/** An engine over the subject's log, with its snapshots where `snapshotsOf` says unless a store is given. */
export function engineOver(h: Subject, options: Omit<EngineOptions, 'log' | 'store'> & { store?: SnapshotStore } = {}): ProjectionEngine {
  return new ProjectionEngine({ store: snapshotsOf(h), ...options, log: h.log });
}

/** Whether a snapshot of `name` is stored. */
export function hasSnapshot(h: Subject, name: string): boolean {
  return h.dir !== undefined ? existsSync(snapshotPath(h.dir, name)) : snapshotsOf(h).load(name) !== undefined;
}

/** A snapshot as stored: a journal's file (hash and mtime: rewritten with the same bytes still shows), a memory store's snapshot. */
export function snapshotImage(h: Subject, name: string): unknown {
  return h.dir !== undefined ? diskImage(h.dir)[snapshotPath(h.dir, name)] : snapshotsOf(h).load(name);
}

/** All that a change would show in: every file of a journal (hash and mtime); a memory log's image and its snapshots of `names`. */
export function imageOf(h: Subject, names: string[] = []): unknown {
  return h.dir !== undefined ? diskImage(h.dir) : { log: h.image(), snapshots: names.map((n) => snapshotsOf(h).load(n)) };
}

function snapshotPath(dir: string, name: string): string {
  return join(dir, 'projections', `${name}.snapshot`);
}
