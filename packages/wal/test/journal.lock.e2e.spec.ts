import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError } from '../src/index.js';
import { LOCK_FILE } from '../src/internals.js';
import { nodeFileIO, type FileIO } from '../src/io/fileIO.js';
import { WriterLock } from '../src/journal/writerLock.js';
import { spawnChild } from './children/spawn.js';
import { tempDir } from './helpers.js';

/** The command that runs a child in a new network namespace, or why it cannot. */
function netnsPrefix(): string[] | string {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace (unshare --net); run the tests as root to include it';
  try {
    execFileSync('unshare', ['--net', 'true'], { stdio: 'ignore' });
  } catch (err) {
    return `cannot create a network namespace here (${String(err).split('\n')[0]})`;
  }
  return ['unshare', '--net'];
}

/** The fallback of a platform without the lock addon: the abstract socket alone (and what earlier versions did). */
const socketOnlyIO: FileIO = { ...nodeFileIO, lock: undefined, isSameFile: undefined };

async function refusal(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection');
  return err;
}

describe('the writer lock', () => {
  it('holds across network namespaces (two containers on one volume): refused while held, free once the holder is SIGKILLed', async (ctx) => {
    const prefix = netnsPrefix();
    if (typeof prefix === 'string') {
      ctx.skip(true, prefix);
      return;
    }
    const dir = tempDir();
    // a writer here, another in a new network namespace: the abstract socket
    // of earlier versions does not reach it, the file lock does
    const here = await Journal.open({ dir });
    await here.append(Buffer.from('one'));
    const refused = spawnChild('opener.ts', [dir], prefix);
    const line = await refused.waitFor((l) => l.startsWith('refused ') || l.startsWith('opened '));
    expect(line).toContain(`refused ${WalErrorCodes.Locked}`);
    expect(line).toContain(`pid ${process.pid}`);
    expect(await refused.exited).toBe(1);
    await here.close();

    // the other way round, and a holder that dies without closing
    const holder = spawnChild('opener.ts', [dir, 'hold'], prefix);
    expect(await holder.waitFor((l) => l.startsWith('opened ') || l.startsWith('refused '))).toBe('opened 43');
    const err = await refusal(Journal.open({ dir }));
    expect(isWalError(err, WalErrorCodes.Locked)).toBe(true);
    expect(err.message).toContain(`pid ${holder.proc.pid}`);
    holder.proc.kill('SIGKILL');
    await holder.exited;
    const after = await Journal.open({ dir });
    expect(after.head).toBe(43);
    await after.close();
  });

  it('refuses a writer of the socket-only fallback while a file-locked writer holds the directory, and the other way round', async (ctx) => {
    if (process.platform !== 'linux') {
      ctx.skip(true, 'the socket fallback is Linux only (elsewhere the fallback is a pid file, which a file-locked writer does not see)');
      return;
    }
    const dir = tempDir();
    const filed = await Journal.open({ dir });
    expect(isWalError(await refusal(Journal.open({ dir, io: socketOnlyIO })), WalErrorCodes.Locked)).toBe(true);
    await filed.close();
    const socketOnly = await Journal.open({ dir, io: socketOnlyIO });
    expect(isWalError(await refusal(Journal.open({ dir })), WalErrorCodes.Locked)).toBe(true);
    await socketOnly.close();
    const again = await Journal.open({ dir });
    await again.close();
  });

  it('names its holder in LOCK while held, leaves a refused writer no trace, and removes LOCK on close', async () => {
    const dir = tempDir();
    const path = join(dir, LOCK_FILE);
    const j = await Journal.open({ dir });
    const held = readFileSync(path, 'utf8');
    expect(JSON.parse(held)).toMatchObject({ pid: process.pid });
    expect(isWalError(await refusal(Journal.open({ dir })), WalErrorCodes.Locked)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(held);
    await j.close();
    expect(existsSync(path)).toBe(false);
  });

  it('does not count a lock on a LOCK file its holder removed meanwhile: another writer may hold the new one', async () => {
    const dir = tempDir();
    const path = join(dir, LOCK_FILE);
    const first = await WriterLock.acquire(nodeFileIO, dir);
    let replacement: number | undefined;
    // Between this open of LOCK and its lock: the first holder closes
    // (removing the file), and a third writer creates and locks a new one.
    const racing: FileIO = {
      ...nodeFileIO,
      lock: (fd) => {
        if (replacement === undefined) {
          first.release();
          replacement = nodeFileIO.open(path, 'wx+');
          expect(nodeFileIO.lock!(replacement)).toBe(true);
        }
        return nodeFileIO.lock!(fd);
      },
    };
    const err = await refusal(WriterLock.acquire(racing, dir));
    expect(isWalError(err, WalErrorCodes.Locked)).toBe(true);
    nodeFileIO.close(replacement!);
    const later = await WriterLock.acquire(racing, dir);
    later.release();
  });
  it('falls back to the socket when the file system does no file locks, and fails with WAL_IO, not a hang, on a LOCK it cannot open', async () => {
    const dir = tempDir();
    const noLocks: FileIO = {
      ...nodeFileIO,
      lock: () => {
        throw Object.assign(new Error('no locks on this file system'), { code: 'ENOLCK' });
      },
    };
    const j = await Journal.open({ dir, io: noLocks });
    if (process.platform === 'linux') expect(isWalError(await refusal(Journal.open({ dir, io: noLocks })), WalErrorCodes.Locked)).toBe(true);
    await j.close();

    const dangling = tempDir();
    symlinkSync(join(dangling, 'nowhere', 'LOCK'), join(dangling, LOCK_FILE));
    const err = await refusal(Journal.open({ dir: dangling }));
    expect(isWalError(err, WalErrorCodes.Io)).toBe(true);
    expect(err.message).toContain('lock file');
  });
  it('a refused open removes the LOCK file it created, and a second release changes nothing', async (ctx) => {
    if (process.platform !== 'linux') {
      ctx.skip(true, 'needs the socket fallback (Linux only)');
      return;
    }
    const dir = tempDir();
    const path = join(dir, LOCK_FILE);
    // a writer of the socket-only kind whose LOCK file is gone: the next one creates the file, locks it, meets the socket
    const socketOnly = await Journal.open({ dir, io: socketOnlyIO });
    rmSync(path);
    expect(isWalError(await refusal(Journal.open({ dir })), WalErrorCodes.Locked)).toBe(true);
    expect(existsSync(path)).toBe(false);
    await socketOnly.close();

    const lock = await WriterLock.acquire(nodeFileIO, dir);
    lock.release();
    const other = await WriterLock.acquire(nodeFileIO, dir);
    const held = readFileSync(path, 'utf8');
    lock.release(); // again: must not touch the LOCK file the other holder made
    expect(readFileSync(path, 'utf8')).toBe(held);
    expect(isWalError(await refusal(WriterLock.acquire(nodeFileIO, dir)), WalErrorCodes.Locked)).toBe(true);
    other.release();
  });
});
