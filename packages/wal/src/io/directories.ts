import { dirname, resolve } from 'node:path';
import { IoError, NotAJournalError, ioError } from '../errors.js';
import type { FileIO } from './fileIO.js';
import { errnoOf } from '../shared/errno.js';

/**
 * `mkdir -p` that survives a power loss: creates each missing level of
 * `dir` with one plain `io.mkdir`, top down, and syncs the parent of each
 * level it creates. A new directory's entry lives in its parent; a
 * recursive mkdir followed by one sync of the last parent leaves the upper
 * entries unsynced, and a power loss could then take the whole subtree,
 * files synced inside it included. A level that another process creates
 * meanwhile is fine (and its parent is synced anyway: that process may
 * not have). Returns true when this call created `dir` itself.
 *
 * Refuses, before creating anything, a path at which or through which
 * something other than a directory stands (a file, a dangling symbolic
 * link, a component that cannot be examined) with a WAL_IO error that
 * names it. Other failures (of mkdir or of a sync) are WAL_IO errors too.
 */
export function createDirectories(io: FileIO, dir: string): boolean {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    let st: ReturnType<FileIO['stat']>;
    try {
      st = io.stat(p);
    } catch (err) {
      const code = errnoOf(err) ?? 'EIO';
      // a file further up: the walk goes on to name it
      if (code === 'ENOTDIR') st = undefined;
      // ELOOP, EACCES, ENAMETOOLONG...: nothing can be made through it
      else throw new PathInTheWayError(target, p, `cannot be examined (${code})`, code, err);
    }
    if (st) {
      if (!st.isDirectory) throw notADirectory(target, p);
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  // a dangling link hides everything beneath it from stat: it can only be the top missing level
  const top = missing[missing.length - 1];
  if (top !== undefined) {
    let link: string | undefined;
    try {
      link = io.readlink?.(top);
    } catch (err) {
      const code = errnoOf(err) ?? 'EIO';
      throw new PathInTheWayError(target, top, `cannot be examined (${code})`, code, err);
    }
    if (link !== undefined) throw new PathInTheWayError(target, top, danglingLink(io, top, link), 'ENOENT');
  }
  let created = false;
  const existing = top === undefined ? undefined : dirname(top);
  if (existing !== undefined && dirname(existing) !== existing) {
    // the level found may be new itself (a run that made it crashed before
    // syncing its parent): its entry is synced too, or a power loss could
    // take it with everything about to be made in it
    try {
      io.syncDir(dirname(existing));
    } catch (err) {
      throw ioError('creating directory', target, err);
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const p = missing[i]!;
    try {
      created = io.mkdir(p);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') throw whatIsInTheWay(io, target, p, err);
      throw ioError('creating directory', p, err);
    }
    try {
      if (dirname(p) !== p) io.syncDir(dirname(p));
    } catch (err) {
      throw ioError('creating directory', p, err);
    }
  }
  return created;
}

/**
 * Creates a journal directory and any missing parents, durably (see
 * createDirectories). A path that names something other than a directory,
 * or runs through one, is not a journal: NotAJournalError, nothing created.
 */
export function ensureDirectory(io: FileIO, dir: string): void {
  try {
    createDirectories(io, dir);
  } catch (err) {
    if (!(err instanceof PathInTheWayError)) throw err;
    const reason = err.path === err.target && err.predicate === NOT_A_DIRECTORY ? 'not a directory' : `${err.path} ${err.predicate}`;
    throw new NotAJournalError(dir, reason, { cause: err.cause });
  }
}

const NOT_A_DIRECTORY = 'is not a directory';

/** createDirectories' refusal: `path`, at or above `target`, cannot be or hold a directory. */
class PathInTheWayError extends IoError {
  constructor(readonly target: string, readonly path: string, readonly predicate: string, code: string, cause?: unknown) {
    // a cause that says it all: the consumers' errors show the cause of a WAL_IO error, not the error
    const why = cause ?? Object.assign(new Error(`${code}: ${path} ${predicate}`), { code, path });
    super(`creating directory ${target} failed (${code}): ${path} ${predicate}`, { cause: why });
  }
}

function notADirectory(target: string, p: string): PathInTheWayError {
  return new PathInTheWayError(target, p, NOT_A_DIRECTORY, p === target ? 'EEXIST' : 'ENOTDIR');
}

/** mkdir said EEXIST where the walk found nothing: another process put something there meanwhile. */
function whatIsInTheWay(io: FileIO, target: string, p: string, err: unknown): IoError {
  try {
    const st = io.stat(p);
    if (st && !st.isDirectory) return notADirectory(target, p);
    const link = st ? undefined : io.readlink?.(p);
    if (link !== undefined) return new PathInTheWayError(target, p, danglingLink(io, p, link), 'ENOENT');
  } catch {
    // the EEXIST is the error that happened
  }
  return ioError('creating directory', p, err);
}

/**
 * When `dir`, which stat does not find, is missing because of a dangling
 * symbolic link at or above it: '<link> is a dangling symbolic link to
 * <target> ...', for an error that would otherwise say only "no such
 * directory" or ENOENT.
 */
export function danglingLinkOn(io: FileIO, dir: string): string | undefined {
  try {
    let p = resolve(dir);
    while (dirname(p) !== p && !io.stat(dirname(p))) p = dirname(p);
    const link = io.readlink?.(p);
    return link === undefined ? undefined : `${p} ${danglingLink(io, p, link)}`;
  } catch {
    return undefined;
  }
}

/** Links followed at most, as the kernel does before ELOOP (MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

/**
 * The link at `at` points at `first`, which stat cannot reach. When `first`
 * is itself a link (a chain), every hop is named up to the one that is
 * missing: naming only the first would say that an existing link does not
 * exist.
 */
function danglingLink(io: FileIO, at: string, first: string): string {
  const hops = [first];
  let p = resolve(dirname(at), first);
  for (let i = 1; i < MAX_LINK_HOPS; i++) {
    let next: string | undefined;
    try {
      next = io.readlink?.(p);
    } catch {
      next = undefined; // the chain ends where it cannot be read: name what was found
    }
    if (next === undefined) break;
    hops.push(next);
    p = resolve(dirname(p), next);
  }
  const missing = hops.length === 1 ? 'its target does not exist' : `${p} does not exist`;
  return `is a dangling symbolic link to ${hops.join(' -> ')} (${missing})`;
}
