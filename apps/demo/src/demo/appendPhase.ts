import { AUDIT_CONSUMER } from '../consumers/auditExport.js';
import type { appOf } from '../app/container.js';
import { assertionInput } from './generate.js';

/** What the append phase measured. */
export interface AppendPhaseResult {
  appended: number;
  /** From the first append to the last one's acknowledgement. */
  appendSeconds: number;
  /** From the first append until the projections and the audit export had every event. */
  followSeconds: number;
  /** The log's head once all was appended (its bytes, the records' framing included). */
  head: number;
}

/**
 * The demo's first phase, also run by the bench's `app` suite: `producers`
 * concurrent callers each awaiting `AssertionService.assert` of the
 * generated assertions in turn, `total` in all, each to its own stream with
 * an expected version, while the projections and the audit export follow.
 * Stops the engine and the audit export before it returns (the store stays
 * open).
 */
export async function runAppendPhase(app: ReturnType<typeof appOf>, total: number, producers: number): Promise<AppendPhaseResult> {
  await app.engine.start();
  app.audit.open();
  const stopAudit = new AbortController();
  const auditRun = app.audit.run(app.registry, stopAudit.signal);
  try {
    const started = performance.now();
    let appended = 0;
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        const producer = `producer-${p}`; // one string per producer: its metadata is looked up by it
        for (let i = p; i < total; i += producers) {
          await app.service.assert(assertionInput(i, p), producer);
          appended++;
        }
      }),
    );
    const appendSeconds = (performance.now() - started) / 1000;
    const head = app.store.log.head;
    await app.engine.waitFor(head);
    while (app.registry.get(AUDIT_CONSUMER).cursor < head) {
      await new Promise((r) => setTimeout(r, 20));
      if (app.audit.written >= total) break;
    }
    return { appended, appendSeconds, followSeconds: (performance.now() - started) / 1000, head };
  } finally {
    stopAudit.abort();
    await auditRun;
    await app.engine.stop();
  }
}
