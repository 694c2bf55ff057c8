import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFileIO, type FileIO } from '@episteme/wal';
import { crc32cJs } from '@episteme/wal/internals';
import { FileCursorStore, decodeCursorFile, isConsumerError, ConsumerErrorCodes, type CursorState } from '../src/index.js';
import { CURSOR_FILE_BYTES, decodeCursorFileContents, MARKER_POSITION, SLOT_BYTES } from '../src/cursorFile.js';
import { tempDir } from './helpers.js';

const at = (cursor: number, extra: Partial<CursorState> = {}): CursorState => ({ name: 'c', cursor, committedAt: '2026-11-24T00:00:00.000Z', state: 'running', pid: 1234, ...extra });

/** A store whose renames are counted: a rename means the file was rewritten whole. */
function countingStore(dir: string, extra: Partial<FileIO> = {}): { store: FileCursorStore; renames: () => number } {
  let renames = 0;
  const io: FileIO = { ...nodeFileIO, rename: (a, b) => (renames++, nodeFileIO.rename(a, b)), ...extra };
  return { store: new FileCursorStore(dir, io), renames: () => renames };
}

describe('cursor files (two slots, commits in place)', () => {
  it('a commit torn at any byte leaves the previous commit or the new one, never an older one or garbage', () => {
    const dir = tempDir();
    const { store } = countingStore(dir);
    store.write(at(100)); // created whole: slot 0
    store.write(at(200)); // slot 1
    store.write(at(300)); // slot 0
    const path = join(store.dir, 'c.cursor');
    const before = readFileSync(path);
    store.write(at(400)); // slot 1, over the commit of 200
    const after = readFileSync(path);
    const changed = [...after.keys()].filter((i) => i < MARKER_POSITION && after[i] !== before[i]); // the slots (the marker moves too)
    const first = changed[0]!;
    const last = changed[changed.length - 1]!;
    expect(Math.floor(first / SLOT_BYTES)).toBe(Math.floor(last / SLOT_BYTES)); // one slot written
    const slotStart = Math.floor(first / SLOT_BYTES) * SLOT_BYTES;
    for (let len = 0; len <= SLOT_BYTES; len += len < 400 ? 1 : 97) {
      const torn = Buffer.from(before);
      after.copy(torn, slotStart, slotStart, slotStart + len);
      const contents = decodeCursorFileContents(torn, path);
      expect([300, 400], `torn after ${len} bytes`).toContain(contents.state.cursor);
      expect(contents.floor, 'the marker still names the commit of 300').toBe(300);
    }
  });

  it('reads a cursor file of the one-line format 1 and rewrites it whole at the next commit', () => {
    const dir = tempDir();
    const { store, renames } = countingStore(dir);
    store.write(at(0)); // creates the directory
    const body = JSON.stringify({ format: 1, ...at(77, { state: 'stopped', pid: undefined }) });
    const crc = crc32cJs(Buffer.from(body)).toString(16).padStart(8, '0');
    writeFileSync(join(store.dir, 'c.cursor'), `${body.slice(0, -1)},"crc":"${crc}"}\n`);
    expect(store.read('c')).toMatchObject({ cursor: 77, state: 'stopped' });
    const r0 = renames();
    store.write(at(88));
    expect(renames()).toBe(r0 + 1);
    expect(readFileSync(join(store.dir, 'c.cursor'))).toHaveLength(CURSOR_FILE_BYTES);
    expect(store.read('c')!.cursor).toBe(88);
  });

  it('a damaged slot is passed over for the other one, and the next commit overwrites it', () => {
    const dir = tempDir();
    const { store, renames } = countingStore(dir);
    store.write(at(10));
    store.write(at(20)); // slot 1 holds the latest
    const path = join(store.dir, 'c.cursor');
    const bytes = readFileSync(path);
    bytes[SLOT_BYTES + 30]! ^= 0x04; // bit rot in the latest slot
    writeFileSync(path, bytes);
    expect(store.read('c')!.cursor).toBe(10);
    const r0 = renames();
    store.write(at(30));
    expect(renames()).toBe(r0); // in place, over the damaged slot
    const contents = decodeCursorFileContents(readFileSync(path), path);
    expect(contents.state.cursor).toBe(30);
    expect(contents.nextSlot).toBe(0); // the latest is in slot 1; slot 0 still holds the commit of 10
    expect(decodeCursorFile(Buffer.concat([readFileSync(path).subarray(0, SLOT_BYTES), Buffer.alloc(CURSOR_FILE_BYTES - SLOT_BYTES)]), path).cursor).toBe(10);
  });

  it('both slots damaged is a typed CONSUMER_CORRUPT_CURSOR error naming both, not a guessed cursor', () => {
    const dir = tempDir();
    const { store } = countingStore(dir);
    store.write(at(10));
    store.write(at(20));
    const path = join(store.dir, 'c.cursor');
    const bytes = readFileSync(path);
    bytes[20]! ^= 1;
    bytes[SLOT_BYTES + 20]! ^= 1;
    writeFileSync(path, bytes);
    let err: unknown;
    try {
      store.read('c');
    } catch (e) {
      err = e;
    }
    expect(isConsumerError(err, ConsumerErrorCodes.CorruptCursor)).toBe(true);
    expect(String((err as Error).message)).toMatch(/slot 0: .*slot 1: /);
  });

  it('after a failed in-place commit, the old cursor is what reads see, and the next commit rewrites the file whole', async () => {
    const dir = tempDir();
    let fail = false;
    const eio = (): never => {
      throw Object.assign(new Error('EIO: fsync (injected)'), { code: 'EIO' });
    };
    const { store, renames } = countingStore(dir, {
      fsync: (fd) => (fail ? eio() : nodeFileIO.fsync(fd)),
      fsyncAsync: async (fd) => (fail ? eio() : nodeFileIO.fsyncAsync(fd)),
    });
    store.write(at(10));
    for (const commit of [() => store.write(at(20)), () => store.writeAsync(at(20))]) {
      fail = true;
      let err: unknown;
      try {
        await commit();
      } catch (e) {
        err = e;
      }
      fail = false;
      expect(isConsumerError(err, ConsumerErrorCodes.Io)).toBe(true);
      expect(store.read('c')!.cursor).toBe(10);
      const r0 = renames();
      store.write(at(10, { state: 'failed', error: 'EIO' }));
      expect(renames(), 'a file whose commit failed is rewritten whole').toBe(r0 + 1);
    }
  });

  it('fits a very long error message into its slot, shortened', () => {
    const dir = tempDir();
    const { store } = countingStore(dir);
    store.write(at(5, { state: 'failed', error: 'x'.repeat(100_000) }));
    const st = store.read('c')!;
    expect(st.cursor).toBe(5);
    expect(st.error!.length).toBeLessThan(SLOT_BYTES);
    expect(st.error!.endsWith('…')).toBe(true);
  });
});

describe('FileCursorStore.updateAsync (a runner commit: one open to read and write)', () => {
  it('reads the stored state once, commits what `next` makes of it in place, and reads back the same', async () => {
    const dir = tempDir();
    const { store, renames } = countingStore(dir);
    store.write(at(100));
    store.write(at(200));
    const seen: Array<CursorState | undefined> = [];
    const next = await store.updateAsync('c', (current) => (seen.push(current), at(current!.cursor + 50)));
    expect(seen).toEqual([at(200)]);
    expect(next).toEqual(at(250));
    expect(store.read('c')).toEqual(at(250));
    expect(store.readFloor('c')).toBe(250);
    expect(renames()).toBe(1); // the file's creation only
  });

  it('what `next` throws is thrown with nothing written; a state of another name is refused the same way', async () => {
    const dir = tempDir();
    const { store } = countingStore(dir);
    store.write(at(100));
    store.write(at(200));
    const path = join(store.dir, 'c.cursor');
    const before = readFileSync(path);
    await expect(
      store.updateAsync('c', () => {
        throw new Error('cursor went backwards');
      }),
    ).rejects.toThrow('cursor went backwards');
    await expect(store.updateAsync('c', () => at(300, { name: 'd' }))).rejects.toThrow(RangeError);
    expect(readFileSync(path)).toEqual(before);
    expect(store.names()).toEqual(['c']);
  });

  it('an absent file gives `next` undefined; a damaged one is CONSUMER_CORRUPT_CURSOR as `read` gives, nothing changed', async () => {
    const dir = tempDir();
    const { store } = countingStore(dir);
    await expect(store.updateAsync('c', (current) => (expect(current).toBeUndefined(), at(10)))).resolves.toEqual(at(10));
    expect(store.read('c')).toEqual(at(10));
    const path = join(store.dir, 'c.cursor');
    const damaged = Buffer.alloc(CURSOR_FILE_BYTES, 0x41);
    writeFileSync(path, damaged);
    let called = false;
    const err = await store.updateAsync('c', () => ((called = true), at(20))).catch((e: unknown) => e);
    expect(isConsumerError(err, ConsumerErrorCodes.CorruptCursor)).toBe(true);
    expect(called).toBe(false);
    expect(readFileSync(path)).toEqual(damaged);
  });
});
