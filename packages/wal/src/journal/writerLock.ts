import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LockedError, ioError, type LockHolder } from '../errors.js';
import { closeQuietly } from '../io/closers.js';
import { readFully, writeFully, type FileIO } from '../io/fileIO.js';
import { errnoOf, hasErrno } from '../shared/errno.js';
import { isProcessAlive } from '../shared/liveness.js';

export const LOCK_FILE = 'LOCK';

/**
 * One writer per directory, across processes.
 *
 * The lock is an exclusive lock on the open LOCK file beside the segments
 * (FileIO.lock: an open-file-description lock on Linux, flock on macOS). The
 * kernel keeps it on the file, not on a name or a pid, so it holds between
 * processes in different network or pid namespaces (two containers sharing
 * the journal's volume, a rolling update that starts the new pod before the
 * old one stops), and it is released the moment its holder dies, even by
 * SIGKILL: there is no stale lock to take over, hence no race between two
 * processes taking over the same dead holder's lock. Its content only says
 * who holds it (pid, host, since), for the error message and for operators.
 *
 * The holder removes the file when it closes, before it lets go of the lock,
 * so that a refused open leaves the directory as it found it. A process that
 * opened the file before it was removed then locks a file no longer in the
 * directory, while another may lock its replacement: so a lock counts only
 * when the LOCK path still names the locked file, and is taken again
 * otherwise.
 *
 * On Linux the writer also listens on a socket in the abstract namespace,
 * named after the directory's real path (the lock of earlier versions, which
 * knew only that one): a writer of an earlier version and one of this version
 * exclude each other during an upgrade, but only within one network
 * namespace (an earlier version in another container knows nothing of the
 * file lock). On macOS an earlier version's pid file does not stop a writer
 * of this one: stop earlier writers before upgrading there.
 *
 * Fallbacks, where FileIO has no `lock` (the lock addon cannot load on this
 * platform, or an in-memory FileIO in tests) or the file system refuses file
 * locks (ENOLCK, EOPNOTSUPP, EINVAL: NFSv3 without a lock manager, some FUSE
 * file systems): the socket alone on Linux, which excludes writers only
 * within one network namespace; elsewhere an exclusive-create pid file,
 * taken over when its pid is no longer alive on this host.
 *
 * Limitation: the lock does not reach across hosts unless the file system
 * carries locks between them (NFSv4 does; a journal on a network file system
 * is not otherwise supported).
 */
export class WriterLock {
  private constructor(
    private readonly io: FileIO,
    private readonly dir: string,
    /** The locked LOCK file, or undefined on the fallbacks. */
    private readonly fd: number | undefined,
    private readonly server: Server | undefined,
  ) {}

  private released = false;

  static async acquire(io: FileIO, dir: string): Promise<WriterLock> {
    const file = io.lock && io.isSameFile ? lockFile(io, dir) : undefined;
    const fd = file?.fd;
    let server: Server | undefined;
    try {
      if (process.platform === 'linux') {
        server = await listenAbstract(lockName(dir)).catch((err: unknown) => {
          if (hasErrno(err, 'EADDRINUSE')) throw new LockedError(dir, readHolder(io, dir));
          throw ioError('taking the writer lock of', dir, err);
        });
      } else if (fd === undefined) {
        acquirePidFile(io, dir);
        return new WriterLock(io, dir, undefined, undefined);
      }
      try {
        if (fd !== undefined) rewriteHolder(io, fd);
        else writeHolder(io, dir, 'w');
      } catch (err) {
        throw ioError('writing the lock file of', dir, err);
      }
    } catch (err) {
      // holding the lock after a failed open would lock the directory for as long as this process lives
      if (server) await closeServer(server);
      if (file) unlockFile(io, dir, file.fd, file.created);
      throw err;
    }
    return new WriterLock(io, dir, fd, server);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.fd !== undefined) {
      unlockFile(this.io, this.dir, this.fd, true);
    } else {
      try {
        const holder = readHolder(this.io, this.dir);
        if (holder?.pid === process.pid) this.io.unlink(join(this.dir, LOCK_FILE));
      } catch {
        // the lock file is informational; the socket below is the lock
      }
    }
    this.server?.close();
  }
}

/** Codes of a file system that does not do file locks: the lock falls back to what it did before. */
const NO_FILE_LOCKS = new Set(['ENOLCK', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL']);
/** Opens of a LOCK file that vanished or was replaced in between, before giving up. */
const OPEN_ATTEMPTS = 5;

/**
 * Opens (creating it when absent) and locks the LOCK file; LockedError when
 * another writer holds it, undefined when the file system does no file
 * locks. A file removed or replaced between the open and the lock (its
 * holder closed meanwhile) is let go and the next one tried.
 */
function lockFile(io: FileIO, dir: string): { fd: number; created: boolean } | undefined {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 1; ; attempt++) {
    let file: { fd: number; created: boolean };
    try {
      file = openOrCreate(io, path);
    } catch (err) {
      throw ioError('opening the lock file of', dir, err);
    }
    let taken: boolean;
    let current: boolean;
    try {
      taken = io.lock!(file.fd);
      current = taken && io.isSameFile!(file.fd, path);
    } catch (err) {
      closeQuietly(io, file.fd);
      if (NO_FILE_LOCKS.has(errnoOf(err) ?? '')) return undefined;
      throw ioError('taking the writer lock of', dir, err);
    }
    if (current) return file;
    closeQuietly(io, file.fd);
    if (!taken) throw new LockedError(dir, readHolder(io, dir));
    if (attempt === OPEN_ATTEMPTS) throw ioError('taking the writer lock of', dir, new Error(`${path} was replaced ${OPEN_ATTEMPTS} times while being locked`));
  }
}

/**
 * Read-write, never truncating what another writer's lock file says. A path
 * that neither opens nor can be created (a dangling symbolic link: the open
 * finds no file, the exclusive create finds the link) is an error after a
 * few attempts, not a loop.
 */
function openOrCreate(io: FileIO, path: string): { fd: number; created: boolean } {
  for (let attempt = 1; ; attempt++) {
    try {
      return { fd: io.open(path, 'r+'), created: false };
    } catch (err) {
      if (!hasErrno(err, 'ENOENT')) throw err;
    }
    try {
      return { fd: io.open(path, 'wx+'), created: true };
    } catch (err) {
      // created meanwhile by another writer: open that one
      if (!hasErrno(err, 'EEXIST') || attempt === OPEN_ATTEMPTS) throw err;
    }
  }
}

/**
 * Lets go of the lock file: removed first when this writer made it or held
 * it (while still locked, and only if the path still names it), then closed,
 * which releases the lock.
 */
function unlockFile(io: FileIO, dir: string, fd: number, remove: boolean): void {
  if (remove) {
    try {
      const path = join(dir, LOCK_FILE);
      if (io.isSameFile!(fd, path)) io.unlink(path);
    } catch {
      // the file is informational; the lock goes with the descriptor
    }
  }
  closeQuietly(io, fd);
}

function lockName(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    real = resolve(dir);
  }
  return '\0episteme-wal-lock:' + createHash('sha256').update(real).digest('hex').slice(0, 40);
}

function listenAbstract(path: string): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', reject);
      // the lock must not keep the process alive on its own
      server.unref();
      resolvePromise(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}

function readHolder(io: FileIO, dir: string): LockHolder | undefined {
  try {
    const fd = io.open(join(dir, LOCK_FILE), 'r');
    try {
      const buf = new Uint8Array(4096);
      const n = readFully(io, fd, buf, 0, buf.length, 0);
      const parsed = JSON.parse(Buffer.from(buf.subarray(0, n)).toString('utf8')) as LockHolder;
      return typeof parsed.pid === 'number' ? parsed : undefined;
    } finally {
      io.close(fd);
    }
  } catch {
    return undefined;
  }
}

function holderBytes(): Buffer {
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
  return Buffer.from(JSON.stringify(holder) + '\n');
}

function writeHolder(io: FileIO, dir: string, flags: 'w' | 'wx'): void {
  const bytes = holderBytes();
  const fd = io.open(join(dir, LOCK_FILE), flags);
  try {
    writeFully(io, fd, bytes, 0, bytes.length, 0);
  } finally {
    io.close(fd);
  }
}

/** Replaces the holder in the locked file: written first, then cut, so that the file is never empty. */
function rewriteHolder(io: FileIO, fd: number): void {
  const bytes = holderBytes();
  writeFully(io, fd, bytes, 0, bytes.length, 0);
  io.truncate(fd, bytes.length);
}

function acquirePidFile(io: FileIO, dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeHolder(io, dir, 'wx');
      return;
    } catch (err) {
      if (!hasErrno(err, 'EEXIST')) throw ioError('taking the writer lock of', dir, err);
      const holder = readHolder(io, dir);
      if (holder && (holder.hostname !== hostname() || isProcessAlive(holder.pid))) throw new LockedError(dir, holder);
      io.unlink(join(dir, LOCK_FILE));
    }
  }
  throw new LockedError(dir, readHolder(io, dir));
}

