import { basename } from 'node:path';
import type { Attributes, Counter, Histogram, Span, Tracer } from '@opentelemetry/api';
import type { RecoveryReport } from '../recovery/report.js';
import { Attr, instrumentsFor, SYSTEM, type OtelApi, type TelemetryOptions } from './otelApi.js';

export const WAL_SCOPE = '@episteme/wal';
const VERSION = '0.1.0';

/** Latency buckets in seconds, from a page-cache write (tens of µs) to a slow disk's sync (a second). */
const LATENCY_BUCKETS = [0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

/** One append in flight: ends its span and records its latency when it settles. */
export interface AppendTrack {
  done<T>(promise: Promise<T>): Promise<T>;
}

/**
 * The journal's instruments (docs/operations.md, "Metrics and traces").
 * Made only when an SDK collects metrics or records spans (see
 * instrumentsFor): a journal without one holds undefined and its hot paths
 * test that and nothing else.
 *
 * The instruments recorded per append or per write carry no attributes:
 * the SDK hashes a measurement's attribute set on every call, which cost
 * about 1 µs per measurement here against 0.1-0.4 µs without (a third of a
 * `none` append). The journal's name (`messaging.destination.name`) is on
 * the recovery counters and the spans.
 */
export class JournalTelemetry {
  private readonly attrs: Attributes;
  private readonly appendDuration: Histogram | undefined;
  private readonly batchRecords: Histogram | undefined;
  private readonly fsyncDuration: Histogram | undefined;
  private readonly records: Counter | undefined;
  private readonly bytes: Counter | undefined;
  private readonly cuts: Counter | undefined;
  private readonly quarantined: Counter | undefined;
  private readonly checksumFailures: Counter | undefined;

  private constructor(
    private readonly api: OtelApi,
    meter: ReturnType<OtelApi['metrics']['getMeter']> | undefined,
    private readonly tracer: Tracer | undefined,
    private readonly destination: string,
  ) {
    this.attrs = { [Attr.system]: SYSTEM, [Attr.destination]: destination };
    if (!meter) return;
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS } };
    this.appendDuration = meter.createHistogram('episteme.journal.append.duration', { description: 'Time from an append call to its resolution (synced with immediate durability)', ...seconds });
    this.batchRecords = meter.createHistogram('episteme.journal.batch.records', { description: 'Records written by one write (and one sync)', unit: '{record}', advice: { explicitBucketBoundaries: BATCH_BUCKETS } });
    this.fsyncDuration = meter.createHistogram('episteme.journal.fsync.duration', { description: 'Duration of one fdatasync of the active segment', ...seconds });
    this.records = meter.createCounter('episteme.journal.records.appended', { description: 'Records written to the journal', unit: '{record}' });
    this.bytes = meter.createCounter('episteme.journal.bytes.appended', { description: 'Record bytes written to the journal (40-byte headers and payloads)', unit: 'By' });
    this.cuts = meter.createCounter('episteme.journal.recovery.cuts', { description: 'Cuts recovery made on open', unit: '{cut}' });
    this.quarantined = meter.createCounter('episteme.journal.recovery.quarantined_bytes', { description: 'Bytes recovery moved to quarantine/', unit: 'By' });
    this.checksumFailures = meter.createCounter('episteme.journal.checksum.failures', { description: 'Records that failed their CRC32C or BLAKE3 (recovery, reads)', unit: '{record}' });
  }

  static create(dir: string, options: TelemetryOptions | false | undefined): JournalTelemetry | undefined {
    const instruments = instrumentsFor(WAL_SCOPE, VERSION, options);
    return instruments && new JournalTelemetry(instruments.api, instruments.meter, instruments.tracer, basename(dir));
  }

  /** Call before the append is queued; `done` with its promise. */
  startAppend(operation: 'append' | 'appendBatch', records: number, bytes: number): AppendTrack {
    const started = performance.now();
    let span: Span | undefined;
    if (this.tracer) {
      span = this.tracer.startSpan(`${operation} ${this.destination}`, {
        kind: this.api.SpanKind.PRODUCER,
        attributes: { ...this.attrs, [Attr.operationName]: operation, [Attr.operationType]: 'send', ...(records === 1 ? { [Attr.bodySize]: bytes } : { [Attr.batchCount]: records }) },
      });
    }
    return {
      done: <T>(promise: Promise<T>) =>
        promise.then(
          (result) => {
            this.appendDuration?.record((performance.now() - started) / 1000);
            if (span) {
              const first = Array.isArray(result) ? (result[0] as { offset?: number } | undefined) : (result as { offset?: number });
              if (first?.offset !== undefined) span.setAttribute(Attr.offset, first.offset);
              span.end();
            }
            return result;
          },
          (err: unknown) => {
            if (span) {
              span.recordException(err as Error);
              span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
              span.end();
            }
            throw err;
          },
        ),
    };
  }

  /** One write of `records` records, `bytes` record bytes (headers and payloads): counted per write, not per append (fewer calls into the SDK). */
  batchWritten(records: number, bytes: number): void {
    this.batchRecords?.record(records);
    this.records?.add(records);
    this.bytes?.add(bytes);
  }

  synced(ms: number): void {
    this.fsyncDuration?.record(ms / 1000);
  }

  recovered(report: RecoveryReport): void {
    if (report.cuts.length === 0) return;
    this.cuts?.add(report.cuts.length, this.attrs);
    let bytes = 0;
    let checksum = 0;
    for (const c of report.cuts) {
      bytes += c.bytes;
      if (c.reason === 'crc-mismatch' || c.reason === 'blake3-mismatch') checksum++;
    }
    this.quarantined?.add(bytes, this.attrs);
    if (checksum > 0) this.checksumFailures?.add(checksum, this.attrs);
  }

  checksumFailed(): void {
    this.checksumFailures?.add(1, this.attrs);
  }
}
