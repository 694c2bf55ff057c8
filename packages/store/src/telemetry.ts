import type { Span, Tracer } from '@opentelemetry/api';
import type { TelemetryOptions } from '@episteme/wal';
import { instrumentsFor, TelemetryAttributes as Attr, TELEMETRY_SYSTEM, type OtelApi } from '@episteme/wal/internals';

export const STORE_SCOPE = '@episteme/store';

/**
 * A producer span per `appendToStream`, named `appendToStream <stream>`,
 * with messaging-convention attributes (the stream as the destination);
 * made only when an SDK records spans (see instrumentsFor in @episteme/wal).
 * The journal's `append` span runs inside it where a context manager is
 * registered. A call of many commits (`appendEach`, `appendEncoded`) has one
 * span for the call, not one per commit (an import makes a call of
 * thousands): the commits it carried and how many were refused.
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

  /**
   * `operation`'s span over a call of `commits` commits; `refused` counts
   * the commits of its outcomes that were refused (a conflict is the
   * commit's outcome, not the call's: the span's status stays unset), and a
   * call rejected as a whole has an error status.
   */
  traceBatch<T>(operation: 'appendEach' | 'appendEncoded', commits: number, append: () => Promise<T>, refused: (outcomes: T) => number): Promise<T> {
    const { api } = this;
    const span = this.tracer.startSpan(operation, {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        [Attr.system]: TELEMETRY_SYSTEM,
        [Attr.operationName]: operation,
        [Attr.operationType]: 'send',
        [Attr.batchCount]: commits,
      },
    });
    return this.settle(span, append, (r) => span.setAttribute('episteme.store.commits_refused', refused(r)));
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
    return this.settle(span, append, (r) => {
      span.setAttribute('episteme.stream.version', r.nextExpectedVersion);
      if (r.alreadyAppended) span.setAttribute('episteme.stream.already_appended', true);
    });
  }

  /** Runs `append` inside `span` and ends it: `done`'s attributes on success, the error and an error status on a rejection. */
  private settle<T>(span: Span, append: () => Promise<T>, done: (r: T) => void): Promise<T> {
    const { api } = this;
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
      done(r);
      span.end();
      return r;
    }, fail);
  }
}
