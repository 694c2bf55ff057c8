import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedDisk } from '@episteme/wal/testing';
import { AuditExporter } from '../src/consumers/auditExport.js';
import type { AppEvent } from '../src/projections/assertionEvents.js';

const PATH = '/data/audit/assertions.ndjson';

/** Events as the event consumer hands them over, one per commit (the exporter reads their fields). */
function records(from: number, count: number): AppEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const globalPosition = from + i * 100;
    const id = `a${globalPosition}`;
    const data = { id, subject: 's', predicate: 'p', object: 'o', confidence: 1, source: 't', assertedAt: '2026-01-01T00:00:00.000Z' };
    return { type: 'AssertionMade', data, metadata: { producer: 't', schema: 1 }, id: `e${globalPosition}`, stream: `assertion-${id}`, streamPosition: 1, globalPosition, recordedAt: new Date(0) } as AppEvent;
  });
}

/** The global positions of the file's lines, as a reader of the export sees them. */
function exportedOffsets(disk: SimulatedDisk): number[] {
  const fd = disk.open(PATH, 'r');
  const bytes = new Uint8Array(disk.size(fd));
  disk.read(fd, bytes, 0, bytes.length, 0);
  disk.close(fd);
  return Buffer.from(bytes)
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { globalPosition: number }).globalPosition);
}

describe('AuditExporter through the FileIO seam', () => {
  it('a power loss right after a batch keeps the file and its lines (the new file is synced into its directory)', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    await audit.handle(records(0, 5));
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastPosition).toBe(400);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300, 400]);
  });

  it('a line holds the event: global position first (what the file remembers), stream, position, ids, type, time, data, metadata; other events are not exported', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    const foreign: AppEvent = { type: 'NotAnAssertion', data: { reason: 'not a commit' }, metadata: undefined, id: '', stream: '', streamPosition: 0, globalPosition: 50, recordedAt: new Date(0) };
    await audit.handle([...records(0, 1), foreign]);
    const fd = disk.open(PATH, 'r');
    const bytes = new Uint8Array(disk.size(fd));
    disk.read(fd, bytes, 0, bytes.length, 0);
    disk.close(fd);
    expect(Buffer.from(bytes).toString()).toBe(
      '{"globalPosition":0,"stream":"assertion-a0","streamPosition":1,"id":"e0","type":"AssertionMade","recordedAt":"1970-01-01T00:00:00.000Z",' +
        '"data":{"id":"a0","subject":"s","predicate":"p","object":"o","confidence":1,"source":"t","assertedAt":"2026-01-01T00:00:00.000Z"},"metadata":{"producer":"t","schema":1}}\n',
    );
    expect(audit.lastPosition).toBe(0);
  });

  it('a write that fails partway is cut back and the batch, handed over again, is written once: no line lost, none twice', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    await audit.handle(records(0, 3));
    // 20 bytes of the batch land, then the disk is full
    let calls = 0;
    disk.inject = ({ op, path }) => (op === 'write' && path === PATH ? (++calls === 1 ? { shortWrite: 20 } : { error: 'ENOSPC' }) : undefined);
    expect(() => audit.handle(records(300, 4))).toThrow(/ENOSPC/);
    expect(audit.lastPosition).toBe(200);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200]);
    disk.inject = undefined; // room again
    await audit.handle(records(300, 4)); // the runner delivers the batch again
    expect(audit.lastPosition).toBe(600);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300, 400, 500, 600]);
  });

  it('a torn write that leaves bytes behind is cut before the retry, which may be shorter', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    await audit.handle(records(0, 1));
    let calls = 0;
    disk.inject = ({ op, path }) => {
      if (op !== 'write' || path !== PATH) return undefined;
      calls++;
      return calls === 1 ? { shortWrite: 30 } : calls === 2 ? { error: 'EIO' } : undefined;
    };
    expect(() => audit.handle(records(100, 3))).toThrow(/EIO/);
    await audit.handle(records(100, 1));
    expect(exportedOffsets(disk)).toEqual([0, 100]);
  });

  it('a failed sync: the unsynced lines are cut (never trusted, however they read back) and the batch, handed over again, is written once', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    await audit.handle(records(0, 2));
    let failNext = true;
    disk.inject = ({ op, path }) => (op === 'fsync' && path === PATH && failNext ? ((failNext = false), { error: 'EIO' }) : undefined);
    await expect(audit.handle(records(200, 2))).rejects.toThrow(/EIO/);
    expect(audit.lastPosition).toBe(100);
    expect(exportedOffsets(disk)).toEqual([0, 100]); // cut back, not left to a later sync
    await audit.handle(records(200, 2)); // the runner's retry
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastPosition).toBe(300);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300]);
  });

  it('a failed sync whose cut fails too: the exporter stops (every batch throws, saying why) until it is opened again', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    await audit.handle(records(0, 2));
    disk.inject = ({ op, path }) => ((op === 'fsync' || op === 'truncate') && path === PATH ? { error: 'EIO' } : undefined);
    await expect(audit.handle(records(200, 2))).rejects.toThrow(/EIO/);
    disk.inject = undefined;
    expect(() => audit.handle(records(200, 2))).toThrow(/stopped: cutting back a failed sync failed; restart/);
    audit.close();
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastPosition).toBe(100); // the unsynced lines are gone with the power
    await again.handle(records(200, 2));
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300]);
  });
});

describe("AuditExporter's syncs while it follows the head", () => {
  afterEach(() => void vi.useRealTimers());

  /** A simulated disk that counts the async syncs started. */
  function countingDisk(): { disk: SimulatedDisk; syncs: () => number } {
    const disk = new SimulatedDisk();
    let syncs = 0;
    const fsyncAsync = disk.fsyncAsync.bind(disk);
    disk.fsyncAsync = (fd: number) => (syncs++, fsyncAsync(fd));
    return { disk, syncs: () => syncs };
  }

  it('a small batch right after a sync waits for the gap before its own sync, and its lines count only once synced', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { disk, syncs } = countingDisk();
    const audit = new AuditExporter(PATH, disk, { syncGapMs: 1000 });
    audit.open();
    await audit.handle(records(0, 3)); // the first sync starts at once
    expect([syncs(), audit.lastPosition]).toEqual([1, 200]);
    let done = false;
    const second = Promise.resolve(audit.handle(records(300, 2))).then(() => void (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect([syncs(), audit.lastPosition, audit.written, done]).toEqual([1, 200, 3, false]);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect([syncs(), audit.lastPosition, audit.written, done]).toEqual([2, 400, 5, true]);
    disk.powerLoss();
    new AuditExporter(PATH, disk).open();
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300, 400]);
  });

  it('a power loss while a batch waits for its sync keeps every line counted; the waiting lines were never counted, and come again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk, { syncGapMs: 1000 });
    audit.open();
    await audit.handle(records(0, 3));
    void audit.handle(records(300, 2)); // written, waiting for its sync
    await vi.advanceTimersByTimeAsync(500);
    expect(audit.lastPosition).toBe(200);
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastPosition).toBe(200);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200]);
    // redelivered from the cursor (at least once), exported once
    await again.handle(records(0, 5));
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300, 400]);
  });

  it('refuses a sync gap that is not a number of milliseconds from 0 (APP_CONFIG), before any file is touched', () => {
    for (const syncGapMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      const disk = new SimulatedDisk();
      expect(() => new AuditExporter(PATH, disk, { syncGapMs })).toThrow(expect.objectContaining({ code: 'APP_CONFIG' }));
      expect(disk.stat('/data')).toBeUndefined();
    }
  });

  it('a batch of 512 lines or more (catching up) syncs at once, and so does every batch with a gap of 0', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { disk, syncs } = countingDisk();
    const audit = new AuditExporter(PATH, disk, { syncGapMs: 1000 });
    audit.open();
    await audit.handle(records(0, 1));
    await audit.handle(records(100, 512)); // no timer advanced: it did not wait
    expect([syncs(), audit.lastPosition]).toEqual([2, 100 + 511 * 100]);

    const other = countingDisk();
    const unpaced = new AuditExporter(PATH, other.disk, { syncGapMs: 0 });
    unpaced.open();
    for (let i = 0; i < 3; i++) await unpaced.handle(records(i * 100, 1));
    expect([other.syncs(), unpaced.lastPosition]).toEqual([3, 200]);
  });

  it('writes each event\'s own time, as JSON.stringify of the event would: across milliseconds, within one, and null for an invalid date', async () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk, { syncGapMs: 0 });
    audit.open();
    const times = [new Date(5), new Date(5), new Date(6), new Date(Number.NaN), new Date(5), new Date(8.64e15 + 1)];
    const events = records(0, times.length).map((e, i) => ({ ...e, recordedAt: times[i]! }) as AppEvent);
    await audit.handle(events);
    const fd = disk.open(PATH, 'r');
    const bytes = new Uint8Array(disk.size(fd));
    disk.read(fd, bytes, 0, bytes.length, 0);
    disk.close(fd);
    const expected = events.map((e) => {
      const { globalPosition, stream, streamPosition, id, type, recordedAt, data, metadata } = e;
      return JSON.stringify({ globalPosition, stream, streamPosition, id, type, recordedAt, data, metadata }) + '\n';
    });
    expect(Buffer.from(bytes).toString()).toBe(expected.join(''));
    expect(Buffer.from(bytes).toString()).toContain('"recordedAt":null');
  });
});
