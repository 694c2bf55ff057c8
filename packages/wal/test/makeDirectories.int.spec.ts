/**
 * makeDirectories, behind nodeFileIO.mkdir: `mkdir -p` one plain mkdir per
 * level (the recursive mkdir of Node 20 never returns on /proc, see
 * journal.pseudoFs.e2e.spec.ts). Callers sync the parent when it reports a
 * creation, so the answer must be exact.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirectories, nodeFileIO } from '../src/io/fileIO.js';
import { tempDir } from './helpers.js';

describe('makeDirectories', () => {
  it('creates every missing level and reports the creation; again, nothing is created and it says so', () => {
    const root = tempDir();
    const deep = join(root, 'a', 'b', 'c');
    expect(makeDirectories(deep)).toBe(true);
    for (const p of [join(root, 'a'), join(root, 'a', 'b'), deep]) expect(statSync(p).isDirectory()).toBe(true);
    expect(makeDirectories(deep)).toBe(false);
    expect(makeDirectories(join(root, 'a'))).toBe(false); // an existing parent
    expect(nodeFileIO.mkdir(join(root, 'a', 'b', 'c', 'd'))).toBe(true); // one level, through the FileIO
  });

  it('a relative path is taken from the working directory', () => {
    const root = tempDir();
    const rel = relative(process.cwd(), join(root, 'x', 'y'));
    expect(makeDirectories(rel)).toBe(true);
    expect(statSync(join(root, 'x', 'y')).isDirectory()).toBe(true);
  });

  it('a file at the path is EEXIST, a file on the way is ENOTDIR, as with node:fs; nothing is created', () => {
    const root = tempDir();
    writeFileSync(join(root, 'f'), 'x');
    expect(() => makeDirectories(join(root, 'f'))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirectories(join(root, 'f', 'sub', 'deeper'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });
});
