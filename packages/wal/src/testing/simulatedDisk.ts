import { basename, dirname, resolve } from 'node:path';
import type { FileIO } from '../io/fileIO.js';

/** What an injected fault does to one call. */
export type Fault =
  | { error: 'ENOSPC' | 'EIO' | 'EDQUOT' }
  /** A write that stores only the first `bytes` bytes and reports that. */
  | { shortWrite: number };

export type DiskOp = 'open' | 'read' | 'write' | 'fsync' | 'truncate' | 'readdir' | 'mkdir' | 'rename' | 'unlink' | 'syncDir';

/** Decides, for each call, whether it fails; return undefined to let it through. */
export type FaultInjector = (call: { op: DiskOp; path: string; length?: number; seq: number }) => Fault | undefined;

interface Inode {
  data: Uint8Array;
  size: number;
  /** Contents as of the last fsync: what survives a power loss for sure. */
  durable: Uint8Array;
  /** Writes and truncates since the last fsync, in order, each numbered from SimulatedDisk.opCount. */
  pending: Array<({ pos: number; bytes: Uint8Array } | { truncate: number }) & { op: number }>;
}

interface Dir {
  entries: Map<string, Inode>;
  durableEntries: Map<string, Inode>;
  /** Names of the directories in this one; `durableSubdirs` as of its last sync. */
  subdirs: Set<string>;
  durableSubdirs: Set<string>;
  pending: Array<{ set: string; inode: Inode } | { remove: string } | { mkdir: string }>;
}

/**
 * An in-memory disk behind the FileIO seam, with the durability rules of a
 * POSIX file system: file data is durable after fsync, a directory entry
 * (create, rename, unlink, mkdir) after an fsync of its directory. `powerLoss()`
 * throws away everything not durable, optionally keeping a random prefix of
 * the unsynced operations (with the last kept write possibly torn), which is
 * what a real disk may do. Faults (ENOSPC, EIO, short writes, failed fsync)
 * come from an injector or from a capacity limit.
 *
 * A directory whose entry was not yet durable in its parent vanishes on
 * power loss with everything in it, synced files included: that is why
 * createDirectories syncs the parent of every level it creates. `/` exists
 * from the start; `mkdir` makes one level, like mkdir(2).
 */
export class SimulatedDisk implements FileIO {
  private dirs = new Map<string, Dir>();
  private fds = new Map<number, { inode: Inode; path: string }>();
  private nextFd = 100;
  private seq = 0;
  /** Numbers the data operations, so that an fsync covers exactly those made before its call. */
  private opCount = 0;
  private frozen = false;
  /** Total bytes the files may hold; writes beyond it fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  inject: FaultInjector | undefined;
  /** Counts of faults delivered, by kind. */
  readonly faults: Record<string, number> = {};

  constructor(private readonly random: () => number = Math.random) {
    this.dirs.set('/', emptyDir());
  }

  /** Every later call fails with EIO, as if the machine lost power now. */
  freeze(): void {
    this.frozen = true;
  }

  /**
   * Power loss: keeps what was durable, plus (with `keepPrefix`) a random
   * prefix of each file's and directory's unsynced operations. With
   * `reorder` too, each data write inside a file's kept prefix reached the
   * disk or not, independently: the kernel's writeback and the disk's cache
   * may persist a later page and lose an earlier one (a file's size and
   * truncations, which are metadata, stay in order). Open descriptors die;
   * the disk then works again, like a rebooted machine.
   */
  powerLoss(options: { keepPrefix?: boolean; reorder?: boolean } = {}): void {
    if (options.reorder && !options.keepPrefix) throw new Error('powerLoss: reorder applies to the kept prefix; pass keepPrefix: true with it');
    for (const dir of this.dirs.values()) {
      const entries = new Map(dir.durableEntries);
      if (options.keepPrefix) {
        const keep = Math.floor(this.random() * (dir.pending.length + 1));
        for (const op of dir.pending.slice(0, keep)) {
          if ('set' in op) entries.set(op.set, op.inode);
          else if ('remove' in op) entries.delete(op.remove);
          else dir.durableSubdirs.add(op.mkdir);
        }
      }
      dir.entries = entries;
      dir.durableEntries = new Map(entries);
      dir.subdirs = new Set(dir.durableSubdirs);
      dir.pending = [];
    }
    // parents first: a directory survives when its parent did and kept its entry
    for (const p of [...this.dirs.keys()].sort((a, b) => a.length - b.length)) {
      if (p !== dirname(p) && !this.dirs.get(dirname(p))?.subdirs.has(basename(p))) this.dirs.delete(p);
    }
    const inodes = new Set<Inode>();
    for (const dir of this.dirs.values()) for (const inode of dir.entries.values()) inodes.add(inode);
    for (const inode of inodes) {
      let data: Uint8Array = inode.durable.slice();
      if (options.keepPrefix) {
        const keep = Math.floor(this.random() * (inode.pending.length + 1));
        inode.pending.slice(0, keep).forEach((op, i) => {
          if ('truncate' in op) {
            data = resized(data, op.truncate);
          } else {
            // the last kept write may be torn: only a prefix of it reached the disk
            const len = i === keep - 1 ? Math.floor(this.random() * (op.bytes.length + 1)) : op.bytes.length;
            const end = op.pos + len;
            if (end > data.length) data = resized(data, end);
            // reordered: the size grew, the bytes may not have landed (the old ones stay)
            if (options.reorder && this.random() < 1 / 3) return;
            data.set(op.bytes.subarray(0, len), op.pos);
          }
        });
      }
      inode.data = data.slice();
      inode.size = data.length;
      inode.durable = data;
      inode.pending = [];
    }
    this.fds.clear();
    this.frozen = false;
  }

  /** A file's current bytes (tests compare quarantine copies and segments). */
  readFile(path: string): Uint8Array | undefined {
    const inode = this.lookup(path);
    return inode?.data.slice(0, inode.size);
  }

  usedBytes(): number {
    const inodes = new Set<Inode>();
    for (const dir of this.dirs.values()) for (const inode of dir.entries.values()) inodes.add(inode);
    let total = 0;
    for (const inode of inodes) total += inode.size;
    return total;
  }

  // ---- FileIO ----

  open(path: string, flags: string): number {
    this.check('open', path);
    const p = resolve(path);
    const dir = this.dirOf(p);
    let inode = dir.entries.get(basename(p));
    const create = flags.includes('w') || flags.includes('a');
    if (inode && flags.includes('x')) throw errno('EEXIST', `open ${p}`);
    if (!inode) {
      if (!create) throw errno('ENOENT', `open ${p}`);
      inode = { data: new Uint8Array(0), size: 0, durable: new Uint8Array(0), pending: [] };
      dir.entries.set(basename(p), inode);
      dir.pending.push({ set: basename(p), inode });
    } else if (flags.startsWith('w')) {
      this.truncateInode(inode, 0);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { inode, path: p });
    return fd;
  }

  close(fd: number): void {
    this.fds.delete(fd);
  }

  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.file(fd);
    this.check('read', f.path, length);
    const n = Math.max(0, Math.min(length, f.inode.size - position));
    buf.set(f.inode.data.subarray(position, position + n), offset);
    return n;
  }

  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    const f = this.file(fd);
    const fault = this.check('write', f.path, length);
    let n = length;
    if (fault && 'shortWrite' in fault) n = Math.min(length, fault.shortWrite);
    const growth = Math.max(0, position + n - f.inode.size);
    if (this.usedBytes() + growth > this.capacityBytes) {
      const room = Math.max(0, this.capacityBytes - this.usedBytes());
      n = Math.max(0, Math.min(n, f.inode.size - position + room));
      if (n === 0) throw this.count(errno('ENOSPC', `write ${f.path}`));
    }
    const inode = f.inode;
    if (position + n > inode.data.length) inode.data = resized(inode.data, Math.max(position + n, inode.data.length * 2));
    const bytes = buf.slice(offset, offset + n);
    inode.data.set(bytes, position);
    inode.size = Math.max(inode.size, position + n);
    inode.pending.push({ pos: position, bytes, op: this.opCount++ });
    return n;
  }

  fsync(fd: number): void {
    const f = this.file(fd);
    this.check('fsync', f.path);
    f.inode.durable = f.inode.data.slice(0, f.inode.size);
    f.inode.pending = [];
  }

  /**
   * Like a real fdatasync on the thread pool: it covers the writes made before
   * the call, not those made while it runs (a writer that published a later
   * batch on an earlier sync would lose it on power loss, and this must show it).
   */
  fsyncAsync(fd: number): Promise<void> {
    let covered: { inode: Inode; data: Uint8Array; before: number };
    try {
      const f = this.file(fd);
      covered = { inode: f.inode, data: f.inode.data.slice(0, f.inode.size), before: this.opCount };
    } catch (err) {
      return Promise.reject(err);
    }
    // async like the real one, so that appends gather while it is "in flight"
    return new Promise((res, rej) => setImmediate(() => {
      try {
        const f = this.file(fd);
        this.check('fsync', f.path);
        const { inode, data, before } = covered;
        if (inode.pending.length > 0 && inode.pending[0]!.op < before) {
          inode.durable = data;
          inode.pending = inode.pending.filter((o) => o.op >= before);
        }
        res();
      } catch (err) {
        rej(err);
      }
    }));
  }

  truncate(fd: number, length: number): void {
    const f = this.file(fd);
    this.check('truncate', f.path);
    this.truncateInode(f.inode, length);
  }

  size(fd: number): number {
    return this.file(fd).inode.size;
  }

  readdir(dir: string): string[] {
    this.check('readdir', dir);
    const d = this.dirs.get(resolve(dir));
    if (!d) throw errno(this.lookup(dir) ? 'ENOTDIR' : 'ENOENT', `scandir ${dir}`);
    return [...d.entries.keys(), ...d.subdirs];
  }

  mkdir(dir: string): boolean {
    this.check('mkdir', dir);
    const p = resolve(dir);
    if (this.dirs.has(p)) return false;
    if (this.lookup(p)) throw errno('EEXIST', `mkdir ${p}`);
    const parent = this.dirs.get(dirname(p));
    if (!parent) throw errno(this.lookup(dirname(p)) ? 'ENOTDIR' : 'ENOENT', `mkdir ${p}`);
    this.dirs.set(p, emptyDir());
    parent.subdirs.add(basename(p));
    parent.pending.push({ mkdir: basename(p) });
    return true;
  }

  rename(from: string, to: string): void {
    this.check('rename', from);
    const src = this.dirOf(resolve(from));
    const inode = src.entries.get(basename(from));
    if (!inode) throw errno('ENOENT', `rename ${from}`);
    const dst = this.dirOf(resolve(to));
    src.entries.delete(basename(from));
    src.pending.push({ remove: basename(from) });
    dst.entries.set(basename(to), inode);
    dst.pending.push({ set: basename(to), inode });
  }

  unlink(path: string): void {
    this.check('unlink', path);
    const dir = this.dirOf(resolve(path));
    if (!dir.entries.delete(basename(path))) throw errno('ENOENT', `unlink ${path}`);
    dir.pending.push({ remove: basename(path) });
  }

  syncDir(dir: string): void {
    this.check('syncDir', dir);
    const d = this.dirs.get(resolve(dir));
    if (!d) throw errno('ENOENT', `open ${dir}`);
    d.durableEntries = new Map(d.entries);
    d.durableSubdirs = new Set(d.subdirs);
    d.pending = [];
  }

  stat(path: string): { isFile: boolean; isDirectory: boolean; size: number } | undefined {
    const p = resolve(path);
    if (this.dirs.has(p)) return { isFile: false, isDirectory: true, size: 0 };
    const inode = this.lookup(p);
    return inode && { isFile: true, isDirectory: false, size: inode.size };
  }

  /** This disk has no symbolic links. */
  readlink(_path: string): string | undefined {
    return undefined;
  }

  // ---- internals ----

  private check(op: DiskOp, path: string, length?: number): Fault | undefined {
    if (this.frozen) throw errno('EIO', `${op} ${path} (power lost)`);
    const seq = this.seq++;
    const fault = this.inject?.({ op, path, length, seq });
    if (fault && 'error' in fault) throw this.count(errno(fault.error, `${op} ${path} (injected)`));
    if (fault) this.faults.shortWrite = (this.faults.shortWrite ?? 0) + 1;
    return fault;
  }

  private count(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
    this.faults[err.code!] = (this.faults[err.code!] ?? 0) + 1;
    return err;
  }

  private file(fd: number): { inode: Inode; path: string } {
    if (this.frozen) throw errno('EIO', `fd ${fd} (power lost)`);
    const f = this.fds.get(fd);
    if (!f) throw errno('EBADF', `fd ${fd}`);
    return f;
  }

  private dirOf(path: string): Dir {
    const d = this.dirs.get(dirname(path));
    if (!d) throw errno('ENOENT', `no directory ${dirname(path)}`);
    return d;
  }

  private lookup(path: string): Inode | undefined {
    return this.dirs.get(dirname(resolve(path)))?.entries.get(basename(path));
  }

  private truncateInode(inode: Inode, length: number): void {
    if (length > inode.data.length) inode.data = resized(inode.data, length);
    else inode.data.fill(0, length);
    inode.size = length;
    inode.pending.push({ truncate: length, op: this.opCount++ });
  }
}

function emptyDir(): Dir {
  return { entries: new Map(), durableEntries: new Map(), subdirs: new Set(), durableSubdirs: new Set(), pending: [] };
}

function resized(data: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(data.subarray(0, Math.min(length, data.length)));
  return out;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
