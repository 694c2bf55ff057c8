import type { Span, Tracer } from '@opentelemetry/api';
import type { TelemetryOptions } from '@episteme/wal';
import { instrumentsFor, TelemetryAttributes as Attr, TELEMETRY_SYSTEM, type OtelApi } from '@episteme/wal/internals';
import type { ProjectionInfo, RebuildReason } from './reports.js';

export const PROJECTIONS_SCOPE = '@episteme/projections';
const VERSION = '0.1.0';

/** A span per rebuild from offset 0; made only when an SDK records spans (see instrumentsFor in @episteme/wal). */
export class RebuildTracer {
  private constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
  ) {}

  static create(options: TelemetryOptions | false | undefined): RebuildTracer | undefined {
    const i = instrumentsFor(PROJECTIONS_SCOPE, VERSION, options);
    return i?.tracer && new RebuildTracer(i.api, i.tracer);
  }

  async trace<T>(projection: { name: string; version: number }, reason: RebuildReason, rebuild: () => Promise<T>, after: () => { events: number; checkpoint: number }): Promise<T> {
    const span: Span = this.tracer.startSpan(`rebuild ${projection.name}`, {
      kind: this.api.SpanKind.CONSUMER,
      attributes: {
        [Attr.system]: TELEMETRY_SYSTEM,
        [Attr.operationName]: 'rebuild',
        [Attr.operationType]: 'process',
        'episteme.projection.name': projection.name,
        'episteme.projection.version': projection.version,
        'episteme.projection.rebuild.reason': reason,
      },
    });
    try {
      const result = await rebuild();
      const { events, checkpoint } = after();
      span.setAttributes({ 'episteme.projection.events': events, 'episteme.projection.checkpoint': checkpoint, 'episteme.projection.rebuild.finished': result !== false });
      return result;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
      throw err;
    } finally {
      span.end();
    }
  }
}

/**
 * Observable gauges of an engine's projections, read from `list()` at each
 * collection (nothing is done between scrapes):
 * `episteme.projection.lag.bytes` (head minus checkpoint) and
 * `episteme.projection.rebuild.progress` (checkpoint over head while
 * rebuilding, 1 otherwise), with `episteme.projection.name`. Returns the
 * function that stops observing; a no-op without an SDK.
 */
export function observeProjections(engine: { list(): ProjectionInfo[] }, options?: TelemetryOptions | false): () => void {
  const meter = instrumentsFor(PROJECTIONS_SCOPE, VERSION, options)?.meter;
  if (!meter) return () => undefined;
  const lag = meter.createObservableGauge('episteme.projection.lag.bytes', { description: 'Log bytes between a projection\'s checkpoint and the head', unit: 'By' });
  const progress = meter.createObservableGauge('episteme.projection.rebuild.progress', { description: 'Share of the log a rebuilding projection has applied (1 when not rebuilding)', unit: '1' });
  const callback = (result: { observe(instrument: unknown, value: number, attributes?: Record<string, string>): void }): void => {
    for (const p of engine.list()) {
      const attrs = { [Attr.system]: TELEMETRY_SYSTEM, 'episteme.projection.name': p.name };
      result.observe(lag, Math.max(0, p.head - p.checkpoint), attrs);
      result.observe(progress, p.status === 'rebuilding' && p.head > 0 ? Math.min(1, p.checkpoint / p.head) : 1, attrs);
    }
  };
  meter.addBatchObservableCallback(callback as never, [lag, progress]);
  return () => meter.removeBatchObservableCallback(callback as never, [lag, progress]);
}
