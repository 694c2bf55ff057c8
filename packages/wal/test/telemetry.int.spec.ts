import { appendFileSync, closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../src/index.js';
import { resolveOptions } from '../src/journal/options.js';
import { readRecordsAt } from '../src/journal/journalBase.js';
import { HEADER_SIZE, RECORD_OVERHEAD } from '../src/format/constants.js';
import { payloadOf, tempDir } from './helpers.js';
import { histogramOf, inMemoryTelemetry, valueOf } from './otelReaders.js';

describe('journal metrics and spans through @opentelemetry/api', () => {
  it('an in-memory reader sees the append, batch, fsync and volume instruments with the workload\'s values, and one producer span per call', async () => {
    const t = inMemoryTelemetry();
    const dir = join(tempDir(), 'journal');
    const j = await Journal.open({ dir, groupCommit: true, telemetry: t });
    // a scripted workload: 10 single appends at once (group commit gathers them), then one batch of 5
    await Promise.all(Array.from({ length: 10 }, (_, i) => j.append(payloadOf(i, 100))));
    const batch = await j.appendBatch(Array.from({ length: 5 }, (_, i) => payloadOf(i, 50)));
    await j.close();
    const m = await t.collect();
    expect(valueOf(m, 'episteme.journal.records.appended')).toBe(15);
    expect(valueOf(m, 'episteme.journal.bytes.appended')).toBe(10 * (40 + 100) + 5 * (40 + 50)); // record bytes: header and payload
    expect(histogramOf(m, 'episteme.journal.append.duration')!.count).toBe(11); // one per call
    const batches = histogramOf(m, 'episteme.journal.batch.records')!;
    expect(batches.sum).toBe(15); // every record in exactly one write
    expect(batches.count).toBeLessThanOrEqual(11);
    expect(batches.count).toBeGreaterThanOrEqual(2);
    const fsync = histogramOf(m, 'episteme.journal.fsync.duration')!;
    expect(fsync.count).toBeGreaterThanOrEqual(batches.count); // immediate: each write synced (close syncs too)
    expect(fsync.sum).toBeGreaterThan(0);
    // per-append and per-write instruments carry no attributes (the SDK hashes them on every call)
    expect(m.get('episteme.journal.records.appended')![0]!.attributes).toEqual({});
    const spans = t.spans.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual([...Array(10).fill('append journal'), 'appendBatch journal'].sort());
    const batchSpan = spans.find((s) => s.name === 'appendBatch journal')!;
    expect(batchSpan.attributes).toMatchObject({
      'messaging.system': 'episteme',
      'messaging.destination.name': 'journal',
      'messaging.operation.name': 'appendBatch',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 5,
      'episteme.journal.offset': batch[0]!.offset,
    });
    expect(spans.find((s) => s.name === 'append journal')!.attributes['messaging.message.body.size']).toBe(100);
  });

  it('counts the cuts, the quarantined bytes and the checksum failures of a recovery', async () => {
    const dir = join(tempDir(), 'journal');
    const j = await Journal.open({ dir, preallocateBytes: 0 });
    await j.append(payloadOf(1, 64));
    await j.close();
    // a record with a valid length whose CRC does not match: a checksum failure, cut by recovery
    const bad = Buffer.alloc(40 + 16);
    bad.writeUInt32LE(16, 0);
    bad.writeUInt32LE(0xdeadbeef, 4);
    appendFileSync(join(dir, readdirSync(dir).find((n) => n.endsWith('.wal'))!), bad);
    const t = inMemoryTelemetry();
    const reopened = await Journal.open({ dir, telemetry: t });
    expect(reopened.recovery.cuts).toHaveLength(1);
    await reopened.close();
    const m = await t.collect();
    expect(valueOf(m, 'episteme.journal.recovery.cuts')).toBe(1);
    expect(valueOf(m, 'episteme.journal.recovery.quarantined_bytes')).toBe(bad.length);
    expect(valueOf(m, 'episteme.journal.checksum.failures')).toBe(1);
    expect(m.get('episteme.journal.recovery.cuts')![0]!.attributes).toEqual({ 'messaging.system': 'episteme', 'messaging.destination.name': 'journal' });
  });

  it('counts a checksum failure that a read meets (WAL_CORRUPT_RECORD: reading on from a record, at known boundaries), once per read, nothing for good reads', async () => {
    const t = inMemoryTelemetry();
    const dir = join(tempDir(), 'journal');
    const j = await Journal.open({ dir, telemetry: t });
    const [first, bad, last] = await j.appendBatch([payloadOf(1, 64), payloadOf(2, 64), payloadOf(3, 64)]);
    // one bit of the second record's payload flipped on disk, under the open writer (none of it read yet)
    const fd = openSync(join(dir, readdirSync(dir).find((n) => n.endsWith('.wal'))!), 'r+');
    const at = HEADER_SIZE + bad!.offset + RECORD_OVERHEAD + 10;
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0]! ^= 0x04;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);
    expect(j.read(first!.offset)!.payload).toEqual(payloadOf(1, 64));
    expect(j.read(last!.offset)!.payload).toEqual(payloadOf(3, 64));
    expect(valueOf(await t.collect(), 'episteme.journal.checksum.failures')).toBeUndefined();
    // a read by offset alone cannot tell damage from an offset off a boundary: not WAL_CORRUPT_RECORD, not counted
    expect(() => j.read(bad!.offset)).toThrow(expect.objectContaining({ code: 'WAL_NOT_RECORD_BOUNDARY' }));
    expect(valueOf(await t.collect(), 'episteme.journal.checksum.failures')).toBeUndefined();
    // a sequential read hands out the record before the damage, then meets it
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const r of j.readFrom(0)) seen.push(r.offset);
      })(),
    ).rejects.toMatchObject({ code: 'WAL_CORRUPT_RECORD', location: { reason: 'crc-mismatch', offset: bad!.offset } });
    expect(seen).toEqual([first!.offset]);
    expect(valueOf(await t.collect(), 'episteme.journal.checksum.failures')).toBe(1);
    // a read at offsets known to be boundaries (a stream's commits)
    expect(() => readRecordsAt(j, [first!.offset, bad!.offset], () => {})).toThrow(expect.objectContaining({ code: 'WAL_CORRUPT_RECORD' }));
    const m = await t.collect();
    expect(valueOf(m, 'episteme.journal.checksum.failures')).toBe(2);
    expect(m.get('episteme.journal.checksum.failures')![0]!.attributes).toEqual({ 'messaging.system': 'episteme', 'messaging.destination.name': 'journal' });
    await j.close();
  });

  it('without an SDK (the API\'s no-op providers) or with telemetry: false, a journal holds no instruments at all', () => {
    expect(resolveOptions({ dir: '/x' }).telemetry).toBeUndefined();
    expect(resolveOptions({ dir: '/x', telemetry: false }).telemetry).toBeUndefined();
    expect(resolveOptions({ dir: '/x', telemetry: inMemoryTelemetry() }).telemetry).toBeDefined();
  });
});
