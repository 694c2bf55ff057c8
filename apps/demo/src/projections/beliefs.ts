import { eventProjection } from '@episteme/projections';
import { assertionDecoder, type AppEvent, type AppEventType } from './assertionEvents.js';
import { dictionary } from './dictionary.js';

export interface Belief {
  id: string;
  predicate: string;
  object: string;
  confidence: number;
  source: string;
  assertedAt: string;
  /** Global position of the event that made it. */
  globalPosition: number;
}

export interface BeliefsState {
  /** subject → assertion id → the current (non-retracted) assertion. */
  bySubject: Map<string, Map<string, Belief>>;
  /** assertion id → subject, to apply retractions. */
  subjectOf: Map<string, string>;
  retracted: number;
}

/** A belief in a snapshot: `[subject, id, predicate, object, confidence, source, assertedAt, globalPosition]`. */
type BeliefRow = [string, string, string, string, number, string, string, number];

/** The state as a snapshot holds it: each standing assertion once, as a row (subjectOf follows from them). */
interface BeliefsSnapshot {
  beliefs: BeliefRow[];
  retracted: number;
}

/**
 * Per subject, the assertions that stand (made and not retracted). A
 * retraction of an unknown id is ignored: it may refer to history that
 * predates this log. An assertion made again with an id that stands
 * replaces the earlier one, whatever its subject (version 1 left the earlier
 * one under its old subject, where no retraction could reach it). Records
 * that are not assertion events are stepped over (version 2 failed on them,
 * for good; see assertionEvents.ts). Version 4: the events of the event
 * store's assertion streams, by global position. Version 5: the state in
 * Maps (ids and subjects are user input, and as keys of a Map no name is
 * special: "toString" and "__proto__" are keys like any other) and a
 * snapshot of rows, less than half the JSON of version 4's objects, which
 * also wrote every id twice.
 */
export const beliefsProjection = eventProjection<BeliefsState, AppEventType>({
  name: 'beliefs',
  version: 5,
  decoder: assertionDecoder(),
  initialState: () => ({ bySubject: new Map(), subjectOf: new Map(), retracted: 0 }),
  serialize: (state): BeliefsSnapshot => {
    const beliefs: BeliefRow[] = [];
    for (const [subject, forSubject] of state.bySubject) {
      for (const b of forSubject.values()) beliefs.push([subject, b.id, b.predicate, b.object, b.confidence, b.source, b.assertedAt, b.globalPosition]);
    }
    return { beliefs, retracted: state.retracted };
  },
  deserialize: (data) => {
    const d = data as BeliefsSnapshot;
    const state: BeliefsState = { bySubject: new Map(), subjectOf: new Map(), retracted: d.retracted };
    for (const [subject, id, predicate, object, confidence, source, assertedAt, globalPosition] of d.beliefs) {
      addBelief(state, subject, { id, predicate, object, confidence, source, assertedAt, globalPosition });
    }
    return state;
  },
  evolve: (state, event) => applyBelief(state, event as AppEvent),
});

/** One event folded into the beliefs. */
export function applyBelief(state: BeliefsState, event: AppEvent): BeliefsState {
  if (event.type === 'AssertionMade') {
    const a = event.data;
    const before = state.subjectOf.get(a.id);
    if (before !== undefined && before !== a.subject) removeBelief(state, before, a.id);
    addBelief(state, a.subject, { id: a.id, predicate: a.predicate, object: a.object, confidence: a.confidence, source: a.source, assertedAt: a.assertedAt, globalPosition: event.globalPosition });
  } else if (event.type === 'AssertionRetracted') {
    const subject = state.subjectOf.get(event.data.assertionId);
    if (subject !== undefined) {
      removeBelief(state, subject, event.data.assertionId);
      state.retracted++;
    }
  }
  return state;
}

function addBelief(state: BeliefsState, subject: string, belief: Belief): void {
  let forSubject = state.bySubject.get(subject);
  if (forSubject === undefined) state.bySubject.set(subject, (forSubject = new Map()));
  forSubject.set(belief.id, belief);
  state.subjectOf.set(belief.id, subject);
}

function removeBelief(state: BeliefsState, subject: string, id: string): void {
  const forSubject = state.bySubject.get(subject)!;
  forSubject.delete(id);
  state.subjectOf.delete(id);
  if (forSubject.size === 0) state.bySubject.delete(subject);
}

export interface SubjectBeliefs {
  subject: string;
  /** Every standing assertion, by global position. */
  assertions: Belief[];
  /** Per predicate, the standing assertion with the highest confidence (earliest on a tie). */
  best: Record<string, Belief>;
}

export function beliefsAbout(state: BeliefsState, subject: string): SubjectBeliefs {
  const assertions = [...(state.bySubject.get(subject)?.values() ?? [])].sort((a, b) => a.globalPosition - b.globalPosition);
  const best = dictionary<Belief>(); // predicates are user input too
  for (const a of assertions) {
    const current = best[a.predicate];
    if (!current || a.confidence > current.confidence) best[a.predicate] = a;
  }
  return { subject, assertions, best };
}
