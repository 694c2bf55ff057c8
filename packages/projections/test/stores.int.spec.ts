import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalErrorCodes } from '@episteme/wal';
import { SimulatedDisk } from '@episteme/wal/testing';
import { FileSnapshotStore, type Snapshot } from '../src/index.js';
import { tempDir } from './helpers.js';
import { simDir } from '../../wal/test/rng.js';

const snapshot: Snapshot = { name: 'tally', version: 1, checkpoint: 7, state: { n: 3 }, events: 3, savedAt: new Date(0).toISOString() };

describe('FileSnapshotStore, its directory', () => {
  it('made where not even the journal directory exists yet: every level made is synced, so a snapshot saved survives a power loss', () => {
    const disk = new SimulatedDisk();
    const dir = simDir(); // /sim/<unique>/journal: none of it exists
    new FileSnapshotStore(dir, disk).save(snapshot);
    disk.powerLoss();
    expect(new FileSnapshotStore(dir, disk).load('tally')).toEqual(snapshot);
  });

  it('a dangling symbolic link in its place: a WAL_IO error that names the link and its target, nothing created', () => {
    const root = tempDir();
    const link = join(root, 'projections');
    const target = join(root, 'gone', 'projections');
    symlinkSync(target, link);
    expect(() => new FileSnapshotStore(root).save(snapshot)).toThrow(
      expect.objectContaining({ code: WalErrorCodes.Io, message: expect.stringContaining(`${link} is a dangling symbolic link to ${target}`) }),
    );
    expect(readdirSync(root)).toEqual(['projections']);
  });
});
