import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Journal, isWalError, nodeFileIO, verifyJournal, WalErrorCodes, type FileIO } from '../src/index.js';
import { RECORD_OVERHEAD } from '../src/internals.js';
import { HEADER_SIZE } from '../src/format/constants.js';
import { segmentName } from '../src/format/segmentName.js';
import { payloadOf, tempDir } from './helpers.js';

/**
 * A read-only journal's listing races the writer's cleanup: the directory is
 * read, then each file is looked at, and cleanup deletes the oldest segments
 * in between. The listing can then keep an old segment (looked at before the
 * deletions) and drop younger ones (looked at after): a hole in the middle.
 * Found by the torture (a reader failed with WAL_NOT_RECORD_BOUNDARY at an
 * offset below what cleanup kept); here the race is replayed exactly through
 * the FileIO seam.
 */

const PAYLOAD = 200;
const RECORD = RECORD_OVERHEAD + PAYLOAD;

/** A FileIO whose next directory listing is the one taken just before `deleted` were removed, with their stat taken after. */
function racingIO(): { io: FileIO; raceNextListing: (names: string[], statBeforeDeletion: Map<string, number>) => void; listings: () => number } {
  let race: { names: string[]; sizes: Map<string, number> } | undefined;
  let listings = 0;
  const io: FileIO = {
    ...nodeFileIO,
    readdir: (dir) => {
      listings++;
      if (!race) return nodeFileIO.readdir(dir);
      return race.names;
    },
    stat: (path) => {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const size = race?.sizes.get(name);
      if (size !== undefined) {
        race!.sizes.delete(name);
        if (race!.sizes.size === 0) race = undefined; // one listing only
        return { isFile: true, isDirectory: false, size };
      }
      return nodeFileIO.stat(path);
    },
  };
  return {
    io,
    raceNextListing: (names, statBeforeDeletion) => {
      race = { names, sizes: statBeforeDeletion };
    },
    listings: () => listings,
  };
}

async function fourSegments(dir: string): Promise<{ writer: Journal; bases: number[]; sizes: Map<string, number> }> {
  const writer = await Journal.open({ dir, durability: 'none', maxSegmentBytes: HEADER_SIZE + 5 * RECORD, preallocateBytes: 0 });
  for (let i = 0; i < 18; i++) await writer.append(payloadOf(i, PAYLOAD));
  const names = readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
  const sizes = new Map(names.map((n) => [n, nodeFileIO.stat(`${dir}/${n}`)!.size]));
  const bases = [0, 5 * RECORD, 10 * RECORD, 15 * RECORD];
  expect(names).toEqual(bases.map(segmentName));
  return { writer, bases, sizes };
}

describe('a read-only journal whose listing races the writer cleanup', () => {
  it('a read in a segment cleanup deleted gives WAL_OFFSET_OUT_OF_RANGE, not a bogus WAL_NOT_RECORD_BOUNDARY', async () => {
    const dir = tempDir();
    const { writer, bases, sizes } = await fourSegments(dir);
    const { io, raceNextListing } = racingIO();
    const reader = await Journal.openForRead({ dir, io });
    // the reader has read segment 0 (its descriptor is open) and is in segment 1
    expect(reader.readMany(0, 5).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4].map((i) => i * RECORD));
    const inSegment1 = bases[1]! + RECORD;

    // cleanup deletes segments 0-2 while the reader lists the directory:
    // segment 0 was looked at before the deletions, 1 and 2 after them
    const names = [...sizes.keys()];
    raceNextListing(names, new Map([[names[0]!, sizes.get(names[0]!)!]]));
    expect(writer.deleteBelow(bases[3]!)).toEqual(names.slice(0, 3));

    const err = (() => {
      try {
        // the view refreshes (as a reader does every 100 ms while reading), listing the directory then
        (reader as unknown as { refreshView(): boolean }).refreshView();
        reader.readMany(inSegment1, 5);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(isWalError(err, WalErrorCodes.OffsetOutOfRange)).toBe(true);
    expect(reader.earliest).toBe(bases[3]);
    await reader.close();
    await writer.close();
  });

  it('the view lists again until the segments are contiguous', async () => {
    const dir = tempDir();
    const { writer, bases, sizes } = await fourSegments(dir);
    const { io, raceNextListing, listings } = racingIO();
    const reader = await Journal.openForRead({ dir, io });
    const names = [...sizes.keys()];
    raceNextListing(names, new Map([[names[0]!, sizes.get(names[0]!)!]]));
    writer.deleteBelow(bases[3]!);
    const before = listings();
    (reader as unknown as { refreshView(): boolean }).refreshView();
    expect(listings() - before).toBe(2); // the racing listing, then a good one
    expect(reader.earliest).toBe(bases[3]); // no hole: segment 0 is not kept in front of 3
    await reader.close();
    await writer.close();
  });

  it('a refresh that only moved the earliest offset says so: a read that missed is tried again', async () => {
    const dir = tempDir();
    const { writer, bases } = await fourSegments(dir);
    const reader = await Journal.openForRead({ dir });
    writer.deleteBelow(bases[1]!);
    expect((reader as unknown as { refreshView(): boolean }).refreshView()).toBe(true);
    expect(reader.earliest).toBe(bases[1]);
    expect((reader as unknown as { refreshView(): boolean }).refreshView()).toBe(false);
    await reader.close();
    await writer.close();
  });

  it('a hole that stays (a segment missing from the directory) is taken as it is after a few listings', async () => {
    const dir = tempDir();
    const { writer, bases } = await fourSegments(dir);
    await writer.close();
    const { rmSync } = await import('node:fs');
    rmSync(`${dir}/${segmentName(bases[1]!)}`);
    const { io, listings } = racingIO();
    const before = listings();
    const reader = await Journal.openForRead({ dir, io });
    expect(listings() - before).toBeLessThanOrEqual(1 + 5); // listSegmentFiles at open, then at most 5 for the view
    expect(reader.earliest).toBe(0);
    await reader.close();
  });
});

describe('verifyJournal of a live journal whose writer cleans up meanwhile', () => {
  it('segments deleted between the listing and their read are skipped and named, not problems; the hole of a racing listing is listed again', async () => {
    const dir = tempDir();
    const { writer, bases, sizes } = await fourSegments(dir);
    const names = [...sizes.keys()];
    const { io, raceNextListing } = racingIO();
    let opened = 0;
    const cleaningIO: FileIO = {
      ...io,
      open: (path, flags) => {
        // cleanup runs right after the first segment was read
        if (path.endsWith(names[1]!) && opened++ === 0) writer.deleteBelow(bases[2]!);
        return io.open(path, flags);
      },
    };
    const report = verifyJournal(dir, { io: cleaningIO });
    expect(report).toMatchObject({ ok: true, problems: [], deletedWhileVerifying: [names[1]], earliest: bases[0] });

    // a listing that raced that cleanup: segment 0 looked at before it, 1 after it (gone), 2 and 3 there
    raceNextListing([names[0]!, names[1]!, names[2]!, names[3]!], new Map([[names[0]!, sizes.get(names[0]!)!]]));
    const again = verifyJournal(dir, { io });
    expect(again).toMatchObject({ ok: true, problems: [], earliest: bases[2] });
    expect(again.deletedWhileVerifying).toBeUndefined();
    await writer.close();
  });

  it('the last segment is read to its size when verify reaches it: listed with preallocated space, trimmed since by the writer', async () => {
    const dir = tempDir();
    const { writer, sizes } = await fourSegments(dir);
    const names = [...sizes.keys()];
    const last = names[3]!;
    const { io, raceNextListing } = racingIO();
    // the listing saw the last segment 1 MiB larger (zeros the writer reserved ahead); by the scan it is trimmed
    raceNextListing(names, new Map([[last, sizes.get(last)! + (1 << 20)]]));
    const report = verifyJournal(dir, { io });
    expect(report).toMatchObject({ ok: true, problems: [], recordsVerified: 18 });
    await writer.close();
  });

  it('a segment that vanishes while later ones stay is a problem', async () => {
    const dir = tempDir();
    const { writer, sizes } = await fourSegments(dir);
    const names = [...sizes.keys()];
    const { rmSync } = await import('node:fs');
    const io: FileIO = {
      ...nodeFileIO,
      open: (path, flags) => {
        if (path.endsWith(names[2]!)) rmSync(path, { force: true }); // gone by hand, not by cleanup
        return nodeFileIO.open(path, flags);
      },
    };
    const report = verifyJournal(dir, { io });
    expect(report.ok).toBe(false);
    expect(report.problems[0]!.message).toMatch(new RegExp(`${names[2]} disappeared while the journal was verified, and later segments are still there`));
    await writer.close();
  });
});
