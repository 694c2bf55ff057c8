import type { Tracer } from '@opentelemetry/api';
import type { TelemetryOptions } from '@episteme/wal';
import { instrumentsFor, TelemetryAttributes as Attr, TELEMETRY_SYSTEM, type OtelApi } from '@episteme/wal/internals';

export const STORE_SCOPE = '@episteme/store';

/**
 * A producer span per `appendToStream`, named `appendToStream <stream>`,
 * with messaging-convention attributes (the stream as the destination);
 * made only when an SDK records spans (see instrumentsFor in @episteme/wal).
 * The journal's `append` span runs inside it where a context manager is
 * registered.
 */
export class AppendTracer {
  private constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
  ) {}

  static create(options: TelemetryOptions | false | undefined): AppendTracer | undefined {
    const i = instrumentsFor(STORE_SCOPE, '0.1.0', options);
    return i?.tracer && new AppendTracer(i.api, i.tracer);
  }

  trace<T extends { readonly nextExpectedVersion: number; readonly alreadyAppended?: true }>(stream: string, events: number, append: () => Promise<T>): Promise<T> {
    const { api } = this;
    const span = this.tracer.startSpan(`appendToStream ${stream}`, {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        [Attr.system]: TELEMETRY_SYSTEM,
        [Attr.destination]: stream,
        [Attr.operationName]: 'appendToStream',
        [Attr.operationType]: 'send',
        [Attr.batchCount]: events,
      },
    });
    const fail = (err: unknown): never => {
      span.recordException(err as Error);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
      span.end();
      throw err;
    };
    let pending: Promise<T>;
    try {
      pending = api.context.with(api.trace.setSpan(api.context.active(), span), append);
    } catch (err) {
      return Promise.reject(err).catch(fail);
    }
    return pending.then((r) => {
      span.setAttribute('episteme.stream.version', r.nextExpectedVersion);
      if (r.alreadyAppended) span.setAttribute('episteme.stream.already_appended', true);
      span.end();
      return r;
    }, fail);
  }
}
