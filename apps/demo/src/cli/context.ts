import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { observeConsumers, type Logger } from '@episteme/consumers';
import type { Snapshot, SnapshotStore } from '@episteme/projections';
import { FileSnapshotStore, observeProjections } from '@episteme/projections';
import { describeCut } from '@episteme/wal/cli';
import { appOf, readerAppOf, wire, wireReader } from '../app/container.js';
import type { AppConfig } from '../app/config.js';
import type { NatsTarget } from './natsOptions.js';

/** What a command gets: its output channels and a way to open the app. */
export interface CommandContext {
  config: AppConfig;
  json: boolean;
  /** A promise means: wait before writing more (a slow reader); it rejects with StdoutClosedError when the reader left. */
  out(s: string): void | Promise<void>;
  err(s: string): void;
  stderrIsTTY: boolean;
  /** Standard input, for `import -`. */
  stdin: NodeJS.ReadableStream;
  /**
   * Opens the app as the writer (the event store: takes the journal lock,
   * waiting for it up to config.lockWaitMs) or as a reader
   * (Journal.openForRead: no lock, changes no journal file).
   */
  open<M extends OpenMode>(mode: M, options?: OpenOptions): Promise<AppIn<M>>;
  /**
   * For a long command that can stop cleanly: `stop` runs on Ctrl-C or
   * SIGTERM instead of the process ending at once; returns the function
   * that removes it. Commands that do not ask keep the default (the
   * process ends; the journal is crash-safe).
   */
  onInterrupt(stop: () => void): () => void;
  /** The cluster named with --nats (and its stream), or undefined: the embedded journal. */
  nats?: NatsTarget | undefined;
}

export type OpenMode = 'write' | 'read';
export type App = ReturnType<typeof appOf> & { container: DependencyContainer; close(): Promise<void> };
export type ReaderApp = ReturnType<typeof readerAppOf> & { container: DependencyContainer; close(): Promise<void> };
/** What `open` gives: the writer's app (with its service) or a reader's. */
export type AppIn<M extends OpenMode> = M extends 'write' ? App : ReaderApp;

/**
 * A read-only CLI query must not write snapshots: the app may be running and
 * owns them. Loads from the files, drops saves.
 */
export class ReadOnlySnapshotStore implements SnapshotStore {
  constructor(private readonly files: FileSnapshotStore) {}
  load(name: string): Snapshot | undefined {
    return this.files.load(name);
  }
  save(): void {}
  remove(): void {}
}

export interface OpenOptions {
  /** Group commit on, whatever the config says (import: its commits go in together, as its batches always did). */
  groupCommit?: boolean;
  /**
   * The consumer whose cursor the command resets or deletes: the warnings
   * that its cursor file is damaged are left out (they advise what the
   * command does, or that nothing need be done); the command says what it
   * replaced.
   */
  repairs?: string;
}

/** `stderr` takes the warnings of the app's parts (a damaged snapshot, a rewritten cursor): the CLI's own channel. */
export async function openApp<M extends OpenMode>(
  config: AppConfig,
  mode: M,
  stderr: (s: string) => void = (s) => void process.stderr.write(s),
  options: OpenOptions = {},
): Promise<AppIn<M>> {
  const child = rootContainer.createChildContainer();
  const logger: Logger = {
    warn: (m, about) => {
      if (options.repairs === undefined || about?.damagedCursor !== options.repairs) stderr(`warning: ${m}\n`);
    },
  };
  if (mode === 'read') {
    await wireReader(child, config, { logger, snapshotStore: new ReadOnlySnapshotStore(new FileSnapshotStore(`${config.dataDir}/journal`)) });
    const app = readerAppOf(child);
    const reader: ReaderApp = { ...app, container: child, close: () => app.journal.close() };
    return reader as AppIn<M>;
  }
  const writing = options.groupCommit === undefined ? config : { ...config, groupCommit: options.groupCommit };
  await wire(child, writing, { logger, onLockWait: (m) => stderr(`note: ${m}\n`) });
  const app = appOf(child);
  // gauges read at each scrape; nothing without --metrics-port (no SDK)
  const unobserve = [observeConsumers(app.registry), observeProjections(app.engine)];
  // the writer's open recovered the journal: a cut changed the log (a torn
  // tail after a crash, or damage with valid records after it), say so
  for (const cut of app.store.recovery.cuts) logger.warn(`journal recovery ${describeCut(cut)}`);
  const writer: App = {
    ...app,
    container: child,
    async close() {
      for (const stop of unobserve) stop();
      await app.engine.stop();
      app.audit.close();
      await app.store.close();
    },
  };
  return writer as AppIn<M>;
}
