import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

export type OtelApi = typeof Api;

let loaded: OtelApi | null | undefined;

/**
 * `@opentelemetry/api`, an optional peer dependency: loaded on first use,
 * undefined where it is not installed (then nothing is measured and nothing
 * costs anything). Loaded with require: the API ships CommonJS, and a
 * synchronous load keeps `Journal.open` free of an await for it.
 */
export function otelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * A MeterProvider and a TracerProvider of `@opentelemetry/api`, typed
 * structurally so that the package's types do not need the API installed.
 */
export interface TelemetryOptions {
  /** Default: the global one (`metrics.getMeterProvider()`). */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
  /** Default: the global one (`trace.getTracerProvider()`). */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
}

export interface Instruments {
  api: OtelApi;
  /** Undefined when no SDK collects metrics (the API's no-op meter). */
  meter: Api.Meter | undefined;
  /** Undefined when no SDK records spans (no tracer provider registered). */
  tracer: Api.Tracer | undefined;
}

/**
 * The meter and tracer an instrumented part uses, each undefined when the
 * API would hand out a no-op one: then the hot paths skip their clock reads
 * and span objects altogether, which is what makes telemetry free without an
 * SDK. Decided once, when the part is made (a journal opened, a registry
 * observed): register the SDK before that.
 */
export function instrumentsFor(scope: string, version: string, options: TelemetryOptions | false | undefined): Instruments | undefined {
  if (options === false) return undefined;
  const api = otelApi();
  if (!api) return undefined;
  const meterProvider = (options?.meterProvider ?? api.metrics.getMeterProvider()) as Api.MeterProvider;
  const meter = meterProvider.getMeter(scope, version);
  const tracerProvider = (options?.tracerProvider ?? api.trace.getTracerProvider()) as Api.TracerProvider & { getDelegateTracer?(name: string): Api.Tracer | undefined };
  // the global provider is a proxy: it has a delegate once an SDK registered one
  const tracing = options?.tracerProvider !== undefined || tracerProvider.getDelegateTracer?.(scope) !== undefined;
  const metering = meter !== api.createNoopMeter();
  if (!metering && !tracing) return undefined;
  return { api, meter: metering ? meter : undefined, tracer: tracing ? tracerProvider.getTracer(scope, version) : undefined };
}

/** Attribute names in the style of OpenTelemetry's messaging conventions; `episteme.*` for what they have no name for. */
export const Attr = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  batchCount: 'messaging.batch.message_count',
  bodySize: 'messaging.message.body.size',
  consumerGroup: 'messaging.consumer.group.name',
  offset: 'episteme.journal.offset',
} as const;

/** The `messaging.system` of every Episteme instrument. */
export const SYSTEM = 'episteme';
