/**
 * FileIO.mkdir makes one level; createDirectories is the one `mkdir -p` on
 * top of it, syncing the parent of every level it creates (a new entry is
 * durable only once its directory is synced). Never a recursive mkdirSync:
 * on Node 20 it spins forever on /proc (journal.pseudoFs.e2e.spec.ts).
 */
import { mkdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, createDirectories, nodeFileIO, type FileIO } from '../src/index.js';
import { SimulatedDisk } from '../src/testing/index.js';
import { snapshotDir, tempDir } from './helpers.js';

/** A fresh SimulatedDisk whose `mkdir` and `syncDir` calls are logged in order. */
function loggedDisk(): { disk: SimulatedDisk; log: string[] } {
  const disk = new SimulatedDisk();
  const log: string[] = [];
  disk.inject = ({ op, path }) => {
    if (op === 'mkdir' || op === 'syncDir') log.push(`${op} ${path}`);
    return undefined;
  };
  return { disk, log };
}

function writeSynced(disk: SimulatedDisk, path: string, text: string): void {
  const fd = disk.open(path, 'w');
  disk.write(fd, Buffer.from(text), 0, text.length, 0);
  disk.fsync(fd);
  disk.close(fd);
}

const errno = (code: string) => expect.objectContaining({ code });

describe.each([
  ['nodeFileIO', (): { io: FileIO; root: string; makeFile: (p: string) => void } => ({ io: nodeFileIO, root: tempDir(), makeFile: (p) => writeFileSync(p, 'x') })],
  ['SimulatedDisk', (): { io: FileIO; root: string; makeFile: (p: string) => void } => {
    const disk = new SimulatedDisk();
    disk.mkdir('/sim');
    return { io: disk, root: '/sim', makeFile: (p) => disk.close(disk.open(p, 'w')) };
  }],
])('%s.mkdir makes exactly one level', (_name, make) => {
  it('true when it made the directory, false when a directory is there already', () => {
    const { io, root } = make();
    expect(io.mkdir(join(root, 'a'))).toBe(true);
    expect(io.mkdir(join(root, 'a'))).toBe(false);
    expect(io.stat(join(root, 'a'))).toMatchObject({ isDirectory: true });
  });

  it('a missing parent is ENOENT, and the parent is not made', () => {
    const { io, root } = make();
    expect(() => io.mkdir(join(root, 'x', 'y'))).toThrow(errno('ENOENT'));
    expect(io.stat(join(root, 'x'))).toBeUndefined();
  });

  it('a file at the path is EEXIST, a file as the parent is ENOTDIR', () => {
    const { io, root, makeFile } = make();
    makeFile(join(root, 'f'));
    expect(() => io.mkdir(join(root, 'f'))).toThrow(errno('EEXIST'));
    expect(() => io.mkdir(join(root, 'f', 'sub'))).toThrow(errno('ENOTDIR'));
    expect(io.stat(join(root, 'f'))).toMatchObject({ isFile: true });
  });
});

describe('createDirectories', () => {
  it('makes each missing level with one mkdir, top down, and syncs its parent right after; when all is there it does nothing', () => {
    const { disk, log } = loggedDisk();
    expect(createDirectories(disk, '/sim/a/b')).toBe(true);
    expect(log).toEqual(['mkdir /sim', 'syncDir /', 'mkdir /sim/a', 'syncDir /sim', 'mkdir /sim/a/b', 'syncDir /sim/a']);
    log.length = 0;
    expect(createDirectories(disk, '/sim/a/b')).toBe(false);
    expect(createDirectories(disk, '/sim/a')).toBe(false);
    expect(log).toEqual([]);
  });

  it('a directory it made two levels deep, and a file synced in it, survive a power loss', () => {
    const disk = new SimulatedDisk();
    disk.mkdir('/sim');
    disk.syncDir('/');
    createDirectories(disk, '/sim/a/b');
    writeSynced(disk, '/sim/a/b/f', 'kept');
    disk.syncDir('/sim/a/b');
    disk.powerLoss();
    expect(Buffer.from(disk.readFile('/sim/a/b/f')!).toString()).toBe('kept');
  });

  it('(the disk model it relies on) a directory whose entry was never synced in its parent is lost on power loss, synced files and all', () => {
    const disk = new SimulatedDisk();
    disk.mkdir('/sim');
    disk.syncDir('/');
    disk.mkdir('/sim/a');
    disk.mkdir('/sim/a/b');
    disk.syncDir('/sim/a'); // what syncing only the last parent leaves: /sim's entry for a is not durable
    writeSynced(disk, '/sim/a/b/f', 'lost');
    disk.syncDir('/sim/a/b');
    disk.powerLoss();
    expect(disk.stat('/sim/a')).toBeUndefined();
    expect(disk.stat('/sim/a/b/f')).toBeUndefined();
    expect(disk.readdir('/sim')).toEqual([]);
  });

  it('on a real file system: every level is made; a relative path is taken from the working directory', () => {
    const root = tempDir();
    const deep = join(root, 'a', 'b', 'c');
    expect(createDirectories(nodeFileIO, deep)).toBe(true);
    for (const p of [join(root, 'a'), join(root, 'a', 'b'), deep]) expect(statSync(p).isDirectory()).toBe(true);
    expect(createDirectories(nodeFileIO, deep)).toBe(false);
    expect(createDirectories(nodeFileIO, relative(process.cwd(), join(root, 'x', 'y')))).toBe(true);
    expect(statSync(join(root, 'x', 'y')).isDirectory()).toBe(true);
  });

  it('a level that another process makes meanwhile is no error, and its parent is still synced (that process may not have)', () => {
    const root = tempDir();
    const a = join(root, 'a');
    const b = join(a, 'b');
    const synced: string[] = [];
    const io: FileIO = {
      ...nodeFileIO,
      mkdir: (d) => {
        if (d === a) mkdirSync(d); // the other process wins the race for this level
        return nodeFileIO.mkdir(d);
      },
      syncDir: (d) => (synced.push(d), nodeFileIO.syncDir(d)),
    };
    expect(createDirectories(io, b)).toBe(true);
    // root's own entry first (it may be new: see the next test), then each level made
    expect(synced).toEqual([dirname(root), root, a]);
    expect(statSync(b).isDirectory()).toBe(true);
  });

  it('the level found existing may have been made by a run that crashed before syncing it: its entry is synced too, and survives a power loss', () => {
    const disk = new SimulatedDisk();
    createDirectories(disk, '/data');
    disk.mkdir('/data/app'); // a crashed run made this level and never synced /data
    createDirectories(disk, '/data/app/journal');
    writeSynced(disk, '/data/app/journal/file', 'kept');
    disk.syncDir('/data/app/journal');
    disk.powerLoss();
    expect(disk.stat('/data/app/journal/file')).toMatchObject({ isFile: true, size: 4 });
  });

  it('refuses a path at or through a file, naming it, with a WAL_IO error; nothing on disk changes', () => {
    const root = tempDir();
    const file = join(root, 'f');
    writeFileSync(file, 'x');
    const before = snapshotDir(root);
    expect(() => createDirectories(nodeFileIO, file)).toThrow(
      expect.objectContaining({ code: WalErrorCodes.Io, message: `creating directory ${file} failed (EEXIST): ${file} is not a directory` }),
    );
    const deeper = join(file, 'sub', 'deeper');
    expect(() => createDirectories(nodeFileIO, deeper)).toThrow(
      expect.objectContaining({ code: WalErrorCodes.Io, message: `creating directory ${deeper} failed (ENOTDIR): ${file} is not a directory` }),
    );
    expect(snapshotDir(root)).toEqual(before);

    const { disk, log } = loggedDisk();
    disk.mkdir('/sim');
    disk.close(disk.open('/sim/f', 'w'));
    log.length = 0;
    expect(() => createDirectories(disk, '/sim/f/a/b')).toThrow(expect.objectContaining({ code: WalErrorCodes.Io, message: expect.stringContaining('/sim/f is not a directory') }));
    expect(log).toEqual([]);
  });

  it('a dangling symbolic link at or above the path is named with its target (mkdir alone says ENOENT); nothing on disk changes', () => {
    const root = tempDir();
    const link = join(root, 'data');
    const target = join(root, 'gone', 'x');
    symlinkSync(target, link);
    const before = snapshotDir(root);
    for (const dir of [link, join(link, 'journal', 'deeper')]) {
      let caught: unknown;
      try {
        createDirectories(nodeFileIO, dir);
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({
        code: WalErrorCodes.Io,
        message: `creating directory ${dir} failed (ENOENT): ${link} is a dangling symbolic link to ${target} (its target does not exist)`,
        // what the consumers' and projections' errors show
        cause: { code: 'ENOENT', message: `ENOENT: ${link} is a dangling symbolic link to ${target} (its target does not exist)` },
      });
    }
    expect(snapshotDir(root)).toEqual(before);
    expect(readlinkSync(link)).toBe(target);
  });

  it('a chain of links that ends nowhere names every hop and the missing end (not "does not exist" of a link that exists); nothing changes', async () => {
    const root = tempDir();
    const link = join(root, 'data');
    symlinkSync('hop', link); // relative: resolved beside the link
    symlinkSync(join(root, 'gone', 'x'), join(root, 'hop'));
    const before = snapshotDir(root);
    const why = `${link} is a dangling symbolic link to hop -> ${join(root, 'gone', 'x')} (${join(root, 'gone', 'x')} does not exist)`;
    expect(() => createDirectories(nodeFileIO, join(link, 'journal'))).toThrow(`failed (ENOENT): ${why}`);
    await expect(Journal.open({ dir: link })).rejects.toMatchObject({ code: WalErrorCodes.NotAJournal, message: `${link} is not a journal directory: ${why}` });
    // a loop of links is named up to the kernel's limit, without hanging
    const loop = join(root, 'loop');
    symlinkSync('loop2', loop);
    symlinkSync('loop', join(root, 'loop2'));
    expect(() => createDirectories(nodeFileIO, join(loop, 'journal'))).toThrow(/ELOOP|loop2 -> loop/);
    expect(snapshotDir(root)).toEqual({ ...before, loop: '-> loop2', loop2: '-> loop' });
  });

  it('a FileIO without readlink (written before it existed) still works: a dangling link gives mkdir’s own error (EEXIST), nothing changes', () => {
    const root = tempDir();
    const link = join(root, 'data');
    symlinkSync(join(root, 'gone', 'x'), link);
    const before = snapshotDir(root);
    const { readlink: _omitted, ...io } = nodeFileIO;
    expect(() => createDirectories(io, join(link, 'journal'))).toThrow(expect.objectContaining({ code: WalErrorCodes.Io, message: expect.stringContaining('failed (EEXIST)') }));
    expect(snapshotDir(root)).toEqual(before);
    const made = join(root, 'a', 'b');
    expect(createDirectories(io, made)).toBe(true);
    expect(statSync(made).isDirectory()).toBe(true);
  });

  it('Journal.open on a dangling symbolic link, at the directory or above it: not a journal, the link and its target named, writer and reader alike', async () => {
    const root = tempDir();
    const link = join(root, 'data');
    symlinkSync('/nonexistent/x', link);
    const why = `${link} is a dangling symbolic link to /nonexistent/x (its target does not exist)`;
    for (const dir of [link, join(link, 'journal')]) {
      for (const [which, open] of [['writer', Journal.open], ['reader', Journal.openForRead]] as const) {
        await expect(open({ dir }), `${dir} ${which}`).rejects.toMatchObject({
          code: WalErrorCodes.NotAJournal,
          message: `${dir} is not a journal directory: ${why}`,
        });
      }
    }
    expect(snapshotDir(root)).toEqual({ data: '-> /nonexistent/x' });
  });
});
