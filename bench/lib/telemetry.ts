import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** A reader that only collects when asked: the SDK aggregates every measurement, nothing is exported. */
class HeldReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** An SDK meter provider with a reader, for the rows with metrics on (what a Prometheus exporter does between scrapes). */
export function metricsOn(): { meterProvider: MeterProvider } {
  return { meterProvider: new MeterProvider({ readers: [new HeldReader()] }) };
}
