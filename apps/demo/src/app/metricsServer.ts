import { metrics } from '@opentelemetry/api';

/** A Prometheus scrape endpoint for the process's metrics (`--metrics-port`). */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts an OpenTelemetry MeterProvider whose reader is the Prometheus
 * exporter (text format at `/metrics`) and makes it the global provider, so
 * that journals, registries and engines opened after this report to it.
 * Loaded only when asked: without `--metrics-port` the app loads no SDK and
 * its instruments are never made (docs/operations.md, "Metrics and traces").
 */
export async function startMetricsServer(port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const [{ PrometheusExporter }, { MeterProvider }] = await Promise.all([import('@opentelemetry/exporter-prometheus'), import('@opentelemetry/sdk-metrics')]);
  const exporter = new PrometheusExporter({ port, host, preventServerStart: true });
  await exporter.startServer();
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  return {
    url: `http://${host}:${port}/metrics`,
    async close() {
      metrics.disable();
      await provider.shutdown(); // stops the exporter's server too
    },
  };
}
