import { join } from 'node:path';
import { createDirectories, isWalError, nodeFileIO, WalErrorCodes, type CursorState, type CursorStore, type FileIO, type Journal } from '@episteme/wal';
import { closeQuietly, errnoOf, isProcessAlive, readFully, replaceFileAtomically, unlinkQuietly, writeFully } from '@episteme/wal/internals';
import {
  CURSOR_FILE_BYTES,
  decodeCursorFile,
  decodeCursorFileContents,
  encodeCursorFile,
  encodeCursorSlot,
  encodeDurableMarker,
  MARKER_BYTES,
  MARKER_POSITION,
  SLOT_BYTES,
  type CursorFileContents,
} from './cursorFile.js';
import { validateConsumerName } from './consumerName.js';
import { HeldFile, holdForRun, releaseAfterRun, replaced, replacementsOf } from './heldCursorFile.js';
import { ConsumerIoError, isConsumerError } from './errors.js';

export const CONSUMERS_DIR = 'consumers';
const SUFFIX = '.cursor';
/** `<name>.cursor.<pid>.<random>.tmp`: a commit's temp file (replaceFileAtomically), unique per commit. */
const TEMP_FILE = /^(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;

/** Journals whose cursor files were synced and tidied: once per open of the writer, as recovery runs once. */
const tidied = new WeakSet<Journal>();

/** Where the writer's housekeeping reports: a removal is news, a failure is a warning (housekeeping is not fatal). */
export interface HousekeepingReport {
  warn(message: string): void;
  info?(message: string): void;
}

/**
 * One durable cursor file per consumer in `<journal>/consumers/`, of two
 * slots (cursorFile.ts): a commit overwrites the slot not holding the latest
 * state and syncs the file, so after a crash at any moment the file holds
 * the old or the new cursor, never a torn or empty one. A file is created
 * whole (write new, sync, rename, sync the directory), and so is one of the
 * older one-line format. Every file-system failure surfaces as a
 * ConsumerIoError (code CONSUMER_IO) with the errno error as its cause.
 * Commits of one consumer must not overlap (the runner keeps one in flight).
 */
export class FileCursorStore implements CursorStore {
  readonly dir: string;
  /**
   * Cursor files whose in-place commit failed after its write began: what
   * the page cache now shows of them may not be on disk (a failed fsync is
   * not retried and trusted), so their next commit rewrites them whole.
   */
  private readonly suspect = new Set<string>();
  /**
   * Cursor files kept open between commits while a runner of this process
   * runs their consumer (`holdForRun`), with the bytes last read or
   * written: a commit then reads the file through the open descriptor and,
   * when it is what this store last wrote, decodes nothing (an open, a
   * close and two slot decodes were half of a commit's cost in a catch-up).
   */
  private readonly held = new Map<string, HeldFile>();

  /** The cursor files of a journal in `journalDir`, as any process may read and commit them; no housekeeping (see `ofWriter`). */
  constructor(journalDir: string, private readonly io: FileIO = nodeFileIO) {
    this.dir = join(journalDir, CONSUMERS_DIR);
  }

  /**
   * The cursor files of the journal's writer. The first time per open of
   * the journal, before anyone reads a cursor: makes durable what a crash
   * left in the page cache (syncAll; a ConsumerIoError when that fails),
   * and removes the temp files that crashed commits left. A reader in
   * another process (the constructor) does neither: it does not sync or
   * delete files whose writer may be running.
   */
  static ofWriter(journal: Journal, io: FileIO = nodeFileIO, report: HousekeepingReport = { warn: (m) => console.warn(m) }): FileCursorStore {
    const store = new FileCursorStore(journal.dir, io);
    if (tidied.has(journal)) return store;
    store.syncAll();
    try {
      const removed = store.removeStaleTempFiles();
      if (removed.length > 0) report.info?.(`removed ${removed.length} temp file(s) left by crashed cursor commits`);
    } catch (err) {
      report.warn(`could not remove stale cursor temp files: ${err instanceof Error ? err.message : String(err)}`);
    }
    tidied.add(journal);
    return store;
  }

  read(name: string): CursorState | undefined {
    const path = this.pathOf(name);
    const bytes = this.readBytes(path);
    return bytes === undefined ? undefined : decodeCursorFile(bytes, path);
  }

  private readBytes(path: string): Uint8Array | undefined {
    let fd: number;
    try {
      fd = this.io.open(path, 'r');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw wrap('open', path, err);
    }
    let bytes: Uint8Array;
    try {
      const size = this.io.size(fd);
      const buf = new Uint8Array(Math.min(size, 64 * 1024));
      const n = readFully(this.io, fd, buf, 0, buf.length, 0);
      bytes = buf.subarray(0, n);
    } catch (err) {
      closeQuietly(this.io, fd);
      throw wrap('read', path, err);
    }
    closeQuietly(this.io, fd); // what was read is complete
    return bytes;
  }

  write(state: CursorState): void {
    const slot = this.writeSlot(state);
    if (!slot) return;
    try {
      attempt('commit', slot.path, () => this.io.fsync(slot.fd));
      this.markDurable(slot.fd, slot.seq);
    } catch (err) {
      this.abandonSlot(slot.path, slot);
      throw err;
    } finally {
      closeQuietly(this.io, slot.fd);
    }
  }

  /**
   * `write` with the sync off the event loop: the same guarantees once it
   * resolves. At most one in flight per consumer.
   */
  async writeAsync(state: CursorState): Promise<void> {
    const slot = this.writeSlot(state);
    if (slot) await this.syncSlot(slot);
  }

  /**
   * See CursorStore.updateAsync. An in-place commit opens the file once to
   * read the stored state and write the next (the registry's read before the
   * write was 4 of a commit's 11 system calls, which cost 20-80 µs each on
   * this VM while a catch-up reads); a file to be written whole reads it
   * as `read` does.
   */
  async updateAsync(name: string, next: (current: CursorState | undefined) => CursorState): Promise<CursorState> {
    const path = this.pathOf(name);
    let held = this.held.get(path);
    if (held && held.replacements !== replacementsOf(path)) {
      // another store of this process replaced the file: commits through the descriptor would go nowhere
      this.drop(path);
      held = undefined;
    }
    const slot = held ? this.heldSlot(path, held) : this.openForSlotWrite(path);
    if (!slot) {
      const state = next(this.read(name));
      await this.writeAsync(state);
      return state;
    }
    let state: CursorState;
    try {
      state = next(slot.state);
      if (state.name !== name) throw new RangeError(`a commit of "${name}" cannot write the state of "${state.name}"`);
    } catch (err) {
      if (!held) closeQuietly(this.io, slot.fd);
      throw err;
    }
    const written = this.writeInto(path, slot, state, held);
    await this.syncSlot({ path, ...slot }, held);
    if (held) held.remember(slot, written, state);
    return state;
  }

  /**
   * Keeps `name`'s cursor file open for the commits of a run (see `held`)
   * until `releaseAfterRun`: only while this process runs the consumer, so
   * that no other writer replaces the file under the descriptor (a reset or
   * delete is refused meanwhile). Nothing is held when the file is not of the
   * slot format (absent, one-line, damaged: those commits rewrite it)
   * or cannot be opened now (the commits then meet and report the error).
   */
  [holdForRun](name: string): void {
    const path = this.pathOf(name);
    if (this.held.has(path) || this.suspect.has(path)) return;
    let slot;
    try {
      slot = this.openForSlotWrite(path);
    } catch {
      return;
    }
    if (slot) this.held.set(path, new HeldFile(slot.fd, replacementsOf(path)));
  }

  /** Closes the file `holdForRun` kept open; nothing when none is held. */
  [releaseAfterRun](name: string): void {
    this.drop(this.pathOf(name));
  }

  private drop(path: string): void {
    const held = this.held.get(path);
    if (!held) return;
    this.held.delete(path);
    closeQuietly(this.io, held.fd);
  }

  /**
   * openForSlotWrite through a held descriptor: the file is read again (a
   * commit of this process outside the run may have written it), and only
   * decoded when it differs from what this store last wrote. Undefined, and
   * the file released, when it must be written whole.
   */
  private heldSlot(path: string, held: HeldFile): { fd: number; position: number; seq: number; state: CursorState } | undefined {
    let n: number;
    try {
      n = readFully(this.io, held.fd, held.buf, 0, held.buf.length, 0);
    } catch (err) {
      this.drop(path);
      throw wrap('read', path, err);
    }
    const known = held.known(n);
    if (known) return { fd: held.fd, ...known };
    if (n === CURSOR_FILE_BYTES) {
      try {
        const contents = decodeCursorFileContents(held.buf.subarray(0, n), path);
        if (contents.nextSlot !== undefined) return { fd: held.fd, position: contents.nextSlot * SLOT_BYTES, seq: contents.seq + 1, state: contents.state };
      } catch (err) {
        if (!isConsumerError(err)) {
          this.drop(path);
          throw wrap('read', path, err);
        }
      }
    }
    this.drop(path);
    return undefined;
  }

  /** The second half of an in-place commit: syncs the slot written, names it durable, closes the file (unless held). */
  private async syncSlot(slot: { path: string; fd: number; position: number; seq: number }, held?: HeldFile): Promise<void> {
    try {
      await this.io.fsyncAsync(slot.fd);
      this.markDurable(slot.fd, slot.seq);
    } catch (err) {
      this.abandonSlot(slot.path, slot);
      throw wrap('commit', slot.path, err);
    } finally {
      if (!held) closeQuietly(this.io, slot.fd);
    }
  }

  /**
   * The first half of a commit: writes `state` over the slot that does not
   * hold the latest one and returns the open file, to be synced. Undefined
   * when the file was written whole instead (new, format 1, damaged or
   * suspect): that commit is complete and durable.
   */
  private writeSlot(state: CursorState): { path: string; fd: number; position: number; seq: number } | undefined {
    const path = this.pathOf(state.name);
    const slot = this.openForSlotWrite(path);
    if (!slot) {
      this.replaceWhole(this.prepareWrite(state), state);
      return undefined;
    }
    this.writeInto(path, slot, state);
    return { path, ...slot };
  }

  /** Writes `state` into the slot opened by openForSlotWrite and returns the bytes; on failure the slot is abandoned and the file closed. */
  private writeInto(path: string, slot: { fd: number; position: number; seq: number }, state: CursorState, held?: HeldFile): Uint8Array {
    const bytes = encodeCursorSlot(state, slot.seq, held?.slot);
    try {
      writeFully(this.io, slot.fd, bytes, 0, SLOT_BYTES, slot.position);
    } catch (err) {
      this.abandonSlot(path, slot);
      if (!held) closeQuietly(this.io, slot.fd);
      throw wrap('commit', path, err);
    }
    return bytes;
  }

  /**
   * Opens the cursor file for an in-place commit: the slot to overwrite and
   * the sequence to write, read from the file right now (another process may
   * have committed since this one last looked). Undefined when the file must
   * be written whole: absent, of the one-line format, or damaged (a reset
   * then replaces it).
   */
  private openForSlotWrite(path: string): { fd: number; position: number; seq: number; state: CursorState } | undefined {
    if (this.suspect.has(path)) return undefined;
    let fd: number;
    try {
      fd = this.io.open(path, 'r+');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw wrap('open', path, err);
    }
    try {
      const buf = new Uint8Array(CURSOR_FILE_BYTES + 1);
      const n = readFully(this.io, fd, buf, 0, buf.length, 0);
      if (n === CURSOR_FILE_BYTES) {
        const contents = decodeCursorFileContents(buf.subarray(0, n), path);
        if (contents.nextSlot !== undefined) return { fd, position: contents.nextSlot * SLOT_BYTES, seq: contents.seq + 1, state: contents.state };
      }
    } catch (err) {
      if (!isConsumerError(err)) {
        closeQuietly(this.io, fd);
        throw wrap('read', path, err);
      }
    }
    closeQuietly(this.io, fd);
    return undefined;
  }

  /**
   * After a failed in-place commit: blanks the slot it wrote (best effort, so
   * that reads fall back to the other slot, the last durable commit) and
   * marks the file for a whole rewrite at its next commit.
   */
  private abandonSlot(path: string, slot: { fd: number; position: number }): void {
    this.suspect.add(path);
    try {
      writeFully(this.io, slot.fd, new Uint8Array(SLOT_BYTES), 0, SLOT_BYTES, slot.position);
    } catch {
      // the disk refuses writes: the next commit rewrites the file whole anyway
    }
    this.drop(path);
  }

  /**
   * A new file with `state` in its first slot and the old file's floor (its
   * durable commit) in the second, replacing the old one atomically and
   * durably.
   */
  private replaceWhole(path: string, state: CursorState): void {
    this.drop(path); // the rename leaves a held descriptor on the old file
    replaced(path);
    const found = this.readContents(path)?.floorState;
    const previous = found && found.state.cursor <= state.cursor ? found : undefined;
    attempt('commit', path, () => replaceFileAtomically(this.io, path, encodeCursorFile(state, previous)));
    this.suspect.delete(path);
    // renamed and the directory synced: the new state is durable
    try {
      const fd = this.io.open(path, 'r+');
      try {
        this.markDurable(fd, previous ? previous.seq + 1 : 1);
      } finally {
        closeQuietly(this.io, fd);
      }
    } catch {
      // without the marker, cleanup keeps to the previous commit until the next one
    }
  }

  /** Names commit `seq` durable (no sync: see MARKER_BYTES); best effort. */
  private markDurable(fd: number, seq: number): void {
    try {
      writeFully(this.io, fd, encodeDurableMarker(seq), 0, MARKER_BYTES, MARKER_POSITION);
    } catch {
      // lost, cleanup is only more careful
    }
  }

  /**
   * The lowest cursor the file's valid slots hold: the last commit known to
   * be durable (see CursorFileContents.floor). Cleanup decides with it.
   */
  readFloor(name: string): number | undefined {
    return this.readContents(this.pathOf(name), true)?.floor;
  }

  /** The decoded file, undefined when absent (or, unless `strict`, damaged). */
  private readContents(path: string, strict = false): CursorFileContents | undefined {
    const bytes = this.readBytes(path);
    if (bytes === undefined) return undefined;
    try {
      return decodeCursorFileContents(bytes, path);
    } catch (err) {
      if (strict || !isConsumerError(err)) throw err;
      return undefined;
    }
  }

  /** Validates the name and creates the directory (durably) on first use; returns the cursor file's path. */
  private prepareWrite(state: CursorState): string {
    const name = validateConsumerName(state.name);
    attempt('create directory', this.dir, () => {
      createDirectories(this.io, this.dir);
    });
    return this.pathOf(name);
  }

  remove(name: string): boolean {
    const path = this.pathOf(name);
    this.drop(path);
    replaced(path);
    try {
      this.io.unlink(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw wrap('unlink', path, err);
    }
    attempt('fsync directory', this.dir, () => this.io.syncDir(this.dir));
    return true;
  }

  /**
   * Syncs every cursor file and the directory. After a crash the page cache
   * may show a cursor that never became durable (a commit that failed after
   * its rename, or between its write and its sync): the registry reports
   * what it reads, so it makes that durable first, and a later power loss
   * cannot move a cursor back behind what was reported.
   */
  syncAll(): void {
    const names = this.names();
    for (const name of names) {
      const path = this.pathOf(name);
      let fd: number;
      try {
        fd = this.io.open(path, 'r');
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue;
        throw wrap('open', path, err);
      }
      try {
        attempt('fsync', path, () => this.io.fsync(fd));
      } finally {
        closeQuietly(this.io, fd);
      }
    }
    if (names.length > 0) attempt('fsync directory', this.dir, () => this.io.syncDir(this.dir));
  }

  /** Names of the stored cursors, sorted. Temp files (of a commit in flight or of a crashed one) are ignored. */
  names(): string[] {
    return this.files()
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => f.slice(0, -SUFFIX.length))
      .sort();
  }

  /**
   * Deletes the temp files that commits of dead processes left behind (a
   * crash between create and rename); those of live processes may be commits
   * in flight and are kept. Returns the names removed.
   */
  removeStaleTempFiles(isAlive: (pid: number) => boolean = isProcessAlive): string[] {
    const removed: string[] = [];
    for (const f of this.files()) {
      const m = TEMP_FILE.exec(f);
      if (!m || isAlive(Number(m[2]))) continue;
      if (unlinkQuietly(this.io, join(this.dir, f))) removed.push(f);
    }
    if (removed.length > 0) attempt('fsync directory', this.dir, () => this.io.syncDir(this.dir));
    return removed;
  }

  private files(): string[] {
    try {
      return this.io.readdir(this.dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw wrap('list', this.dir, err);
    }
  }

  private pathOf(name: string): string {
    return join(this.dir, validateConsumerName(name) + SUFFIX);
  }
}

function wrap(operation: string, path: string, err: unknown): Error {
  if (isConsumerError(err)) return err;
  // a WAL_IO error from the shared file helpers: keep the errno error as the cause
  const cause = isWalError(err, WalErrorCodes.Io) && err.cause !== undefined ? err.cause : err;
  return new ConsumerIoError(operation, path, cause);
}

function attempt<T>(operation: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw wrap(operation, path, err);
  }
}
