import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LockedError, ioError, type LockHolder } from '../errors.js';
import { readFully, writeFully, type FileIO } from '../io/fileIO.js';

export const LOCK_FILE = 'LOCK';

/**
 * One writer per journal directory, across processes.
 *
 * On Linux the lock is a listening socket in the abstract namespace, named
 * after the directory's real path: the kernel releases it the moment the
 * holder dies (even by SIGKILL), so a stale lock cannot exist and two
 * processes can never both take over a dead holder's lock, the race every
 * pid-file scheme has. The LOCK file beside the segments only says who holds
 * it, for the error message and for operators.
 *
 * Elsewhere (no abstract sockets) it falls back to an exclusive-create pid
 * file, taken over when its pid is no longer alive on this host.
 *
 * Limitation: the lock only excludes writers on the same host and in the
 * same network namespace. Abstract socket names belong to a network
 * namespace, not to the file system, so two processes in different network
 * namespaces (two containers sharing the journal's volume, `unshare -n`, a
 * Kubernetes pod and a sidecar without a shared network) can both take the
 * lock of one directory, and two writers then corrupt the log. Node has no
 * flock() and this package takes no native dependency, so this is not
 * detected: run every writer of a directory on one host and in one network
 * namespace (readers are not affected; they take no lock). A network file
 * system shared between hosts is not supported for the same reason.
 */
export class WriterLock {
  private constructor(
    private readonly io: FileIO,
    private readonly dir: string,
    private readonly server: Server | undefined,
  ) {}

  static async acquire(io: FileIO, dir: string): Promise<WriterLock> {
    if (process.platform === 'linux') {
      const server = await listenAbstract(lockName(dir)).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'EADDRINUSE') throw new LockedError(dir, readHolder(io, dir));
        throw ioError('taking the writer lock of', dir, err);
      });
      try {
        writeHolder(io, dir, 'w');
      } catch (err) {
        // the socket is the lock: holding it after a failed open would lock
        // the directory for as long as this process lives
        await closeServer(server);
        throw ioError('writing the lock file of', dir, err);
      }
      return new WriterLock(io, dir, server);
    }
    acquirePidFile(io, dir);
    return new WriterLock(io, dir, undefined);
  }

  release(): void {
    try {
      const holder = readHolder(this.io, this.dir);
      if (holder?.pid === process.pid) this.io.unlink(join(this.dir, LOCK_FILE));
    } catch {
      // the lock file is informational; the socket below is the lock
    }
    this.server?.close();
  }
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

function writeHolder(io: FileIO, dir: string, flags: 'w' | 'wx'): void {
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
  const bytes = Buffer.from(JSON.stringify(holder) + '\n');
  const fd = io.open(join(dir, LOCK_FILE), flags);
  try {
    writeFully(io, fd, bytes, 0, bytes.length, 0);
  } finally {
    io.close(fd);
  }
}

function acquirePidFile(io: FileIO, dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeHolder(io, dir, 'wx');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw ioError('taking the writer lock of', dir, err);
      const holder = readHolder(io, dir);
      if (holder && (holder.hostname !== hostname() || isAlive(holder.pid))) throw new LockedError(dir, holder);
      io.unlink(join(dir, LOCK_FILE));
    }
  }
  throw new LockedError(dir, readHolder(io, dir));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
