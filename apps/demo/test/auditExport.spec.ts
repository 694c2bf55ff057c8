import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '@episteme/wal';
import { SimulatedDisk } from '@episteme/wal/testing';
import { AuditExporter } from '../src/consumers/auditExport.js';

const PATH = '/data/audit/assertions.ndjson';

/** Records as the consumer runner hands them over (the exporter reads offset and payload only). */
function records(from: number, count: number): JournalRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const offset = from + i * 100;
    return { offset, payload: Buffer.from(JSON.stringify({ type: 'AssertionMade', data: { n: offset } })) } as unknown as JournalRecord;
  });
}

/** The offsets of the file's lines, as a reader of the export sees them. */
function exportedOffsets(disk: SimulatedDisk): number[] {
  const fd = disk.open(PATH, 'r');
  const bytes = new Uint8Array(disk.size(fd));
  disk.read(fd, bytes, 0, bytes.length, 0);
  disk.close(fd);
  return Buffer.from(bytes)
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { offset: number }).offset);
}

describe('AuditExporter through the FileIO seam', () => {
  it('a power loss right after a batch keeps the file and its lines (the new file is synced into its directory)', () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    audit.handle(records(0, 5));
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastOffset).toBe(400);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300, 400]);
  });

  it('a write that fails partway is cut back and the batch, handed over again, is written once: no line lost, none twice', () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    audit.handle(records(0, 3));
    // 20 bytes of the batch land, then the disk is full
    let calls = 0;
    disk.inject = ({ op, path }) => (op === 'write' && path === PATH ? (++calls === 1 ? { shortWrite: 20 } : { error: 'ENOSPC' }) : undefined);
    expect(() => audit.handle(records(300, 4))).toThrow(/ENOSPC/);
    expect(audit.lastOffset).toBe(200);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200]);
    disk.inject = undefined; // room again
    audit.handle(records(300, 4)); // the runner delivers the batch again
    expect(audit.lastOffset).toBe(600);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300, 400, 500, 600]);
  });

  it('a torn write that leaves bytes behind is cut before the retry, which may be shorter', () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    audit.handle(records(0, 1));
    let calls = 0;
    disk.inject = ({ op, path }) => {
      if (op !== 'write' || path !== PATH) return undefined;
      calls++;
      return calls === 1 ? { shortWrite: 30 } : calls === 2 ? { error: 'EIO' } : undefined;
    };
    expect(() => audit.handle(records(100, 3))).toThrow(/EIO/);
    audit.handle(records(100, 1));
    expect(exportedOffsets(disk)).toEqual([0, 100]);
  });

  it('a failed sync: the unsynced lines are cut (never trusted, however they read back) and the batch, handed over again, is written once', () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    audit.handle(records(0, 2));
    let failNext = true;
    disk.inject = ({ op, path }) => (op === 'fsync' && path === PATH && failNext ? ((failNext = false), { error: 'EIO' }) : undefined);
    expect(() => audit.handle(records(200, 2))).toThrow(/EIO/);
    expect(audit.lastOffset).toBe(100);
    expect(exportedOffsets(disk)).toEqual([0, 100]); // cut back, not left to a later sync
    audit.handle(records(200, 2)); // the runner's retry
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastOffset).toBe(300);
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300]);
  });

  it('a failed sync whose cut fails too: the exporter stops (every batch throws, saying why) until it is opened again', () => {
    const disk = new SimulatedDisk();
    const audit = new AuditExporter(PATH, disk);
    audit.open();
    audit.handle(records(0, 2));
    disk.inject = ({ op, path }) => ((op === 'fsync' || op === 'truncate') && path === PATH ? { error: 'EIO' } : undefined);
    expect(() => audit.handle(records(200, 2))).toThrow(/EIO/);
    disk.inject = undefined;
    expect(() => audit.handle(records(200, 2))).toThrow(/stopped: cutting back a failed sync failed; restart/);
    audit.close();
    disk.powerLoss();
    const again = new AuditExporter(PATH, disk);
    again.open();
    expect(again.lastOffset).toBe(100); // the unsynced lines are gone with the power
    again.handle(records(200, 2));
    expect(exportedOffsets(disk)).toEqual([0, 100, 200, 300]);
  });
});
