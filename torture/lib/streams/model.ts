import type { Event, ExpectedVersion } from '@episteme/store';

/**
 * What a stream writer tries: one multi-event commit. Everything about its
 * events derives from the spec, so a retry (in the same process or in the
 * next cycle's process) carries the same ids and the same bytes: the store
 * must then answer alreadyAppended or append it once, never twice.
 */
export interface CommitSpec {
  /** Unique per commit in a session; every event id starts with it. */
  tag: string;
  stream: string;
  count: number;
  expected: ExpectedVersion;
  pad: number;
}

/** Event ids `<tag>:<k>/<count>`: the checker regroups a log's events into commits from the ids alone. */
export function eventsOf(spec: CommitSpec): Event[] {
  return Array.from({ length: spec.count }, (_, i) => ({
    id: `${spec.tag}:${i + 1}/${spec.count}`,
    type: 'Tortured',
    data: { k: i + 1, pad: 'x'.repeat(spec.pad) },
  }));
}

export function parseEventId(id: string): { tag: string; k: number; count: number } | undefined {
  const m = /^(.+):(\d+)\/(\d+)$/.exec(id);
  return m ? { tag: m[1]!, k: Number(m[2]), count: Number(m[3]) } : undefined;
}

/** An acknowledged commit: the store resolved it at these versions. */
export interface AckedCommit {
  stream: string;
  first: number;
  count: number;
  /** Survives a power loss (the journal's durability is immediate, or a clean close came since). */
  durable: boolean;
}

/**
 * The stream half of the independent record: acknowledged commits by tag,
 * and the attempts whose outcome the writer never saw (they are retried by
 * the next cycle's writer, and may be found whole in the log, never partly).
 */
export class StreamLedger {
  readonly acked = new Map<string, AckedCommit>();
  readonly pending = new Map<string, CommitSpec>();
  /** After a check: the tags the recovered log holds (a retry's answer is judged against it). */
  present = new Set<string>();

  attempt(spec: CommitSpec): void {
    if (!this.acked.has(spec.tag)) this.pending.set(spec.tag, spec);
  }

  ack(spec: CommitSpec, first: number, durable: boolean): void {
    this.pending.delete(spec.tag);
    const known = this.acked.get(spec.tag);
    this.acked.set(spec.tag, { stream: spec.stream, first, count: spec.count, durable: durable || (known?.durable ?? false) });
  }

  /** A conflict: nothing was written by this call (the tag may still be in the log from an earlier attempt). */
  settled(tag: string): void {
    this.pending.delete(tag);
  }

  /** A clean close resolved: every acknowledgement so far is on the disk. */
  allDurable(): void {
    for (const c of this.acked.values()) c.durable = true;
  }
}
