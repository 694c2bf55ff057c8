import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A metric reader that collects when asked: what a scrape would see. */
class ManualReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface InMemoryTelemetry {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  spans: InMemorySpanExporter;
  /** Every data point of every instrument, by instrument name. */
  collect(): Promise<Map<string, DataPoint<number | Histogram>[]>>;
}

/** An SDK meter provider with an in-memory reader and a tracer provider with an in-memory exporter. */
export function inMemoryTelemetry(): InMemoryTelemetry {
  const reader = new ManualReader();
  const spans = new InMemorySpanExporter();
  return {
    meterProvider: new MeterProvider({ readers: [reader] }),
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    spans,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, DataPoint<number | Histogram>[]>();
      for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, m.dataPoints as DataPoint<number | Histogram>[]);
      return out;
    },
  };
}

/** The one value of a counter or gauge (its single data point), or undefined when it has none. */
export function valueOf(points: Map<string, DataPoint<number | Histogram>[]>, name: string): number | undefined {
  const p = points.get(name);
  if (!p || p.length === 0) return undefined;
  return p.reduce((n, d) => n + (d.value as number), 0);
}

/** Count and sum of a histogram over its data points. */
export function histogramOf(points: Map<string, DataPoint<number | Histogram>[]>, name: string): { count: number; sum: number } | undefined {
  const p = points.get(name);
  if (!p || p.length === 0) return undefined;
  return p.reduce((acc, d) => ({ count: acc.count + (d.value as Histogram).count, sum: acc.sum + ((d.value as Histogram).sum ?? 0) }), { count: 0, sum: 0 });
}
