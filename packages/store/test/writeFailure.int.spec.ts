import { describe, expect, it } from 'vitest';
import { SimulatedDisk } from '@episteme/wal/testing';
import { isWalError } from '@episteme/wal';
import { isStoreError, openEventStore, StoreErrorCodes } from '../src/index.js';
import { failNextSegmentWrite, foldVersions, readCommits } from './helpers.js';

let dirs = 0;
const simDir = (): string => `/sim/${process.pid}-${Date.now()}-wf${dirs++}/store`;

describe('a journal write that fails', () => {
  for (const groupCommit of [false, true]) {
    it(`releases the versions it reserved, fails the commits of the stream queued on top of it, and leaves no gap (group commit ${groupCommit ? 'on' : 'off'})`, async () => {
      const disk = new SimulatedDisk(() => 0.5);
      const options = { dir: simDir(), io: disk, groupCommit, preallocateBytes: 0 };
      const store = await openEventStore(options);
      await store.appendToStream('s', [{ type: 't', data: 0 }]);
      failNextSegmentWrite(disk);
      const first = store.appendToStream('s', [{ type: 't', data: 1 }], { expectedVersion: 1 });
      const queued = [store.appendToStream('s', [{ type: 't', data: 2 }], { expectedVersion: 2 }), store.appendToStream('s', [{ type: 't', data: 3 }])];
      const results = await Promise.allSettled([first, ...queued]);
      disk.inject = undefined;
      expect(results[0]!.status).toBe('rejected');
      expect(isWalError((results[0] as PromiseRejectedResult).reason, 'WAL_WRITE_FAILED')).toBe(true);
      for (const r of results.slice(1)) {
        expect(r.status).toBe('rejected');
        expect(isStoreError((r as PromiseRejectedResult).reason, StoreErrorCodes.CommitAborted)).toBe(true);
      }
      // the stream is where the log has it: version 1, and the next append expecting 1 wins
      expect((await store.readStream('s', { maxCount: 0 })).currentVersion).toBe(1);
      expect(await store.appendToStream('s', [{ type: 't', data: 4 }], { expectedVersion: 1 })).toMatchObject({ nextExpectedVersion: 2 });
      await store.close();
      const commits = await readCommits({ dir: options.dir, io: disk });
      expect(foldVersions(commits).violations).toEqual([]);
      expect(commits.length).toBe(2);
    });
  }
});
