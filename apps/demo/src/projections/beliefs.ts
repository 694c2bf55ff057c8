import { eventProjection } from '@episteme/projections';
import { assertionDecoder, type AppEvent, type AppEventType } from './assertionEvents.js';
import { dictionary, toDictionary } from './dictionary.js';

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
  bySubject: Record<string, Record<string, Belief>>;
  /** assertion id → subject, to apply retractions. */
  subjectOf: Record<string, string>;
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
 * store's assertion streams, by global position.
 */
export const beliefsProjection = eventProjection<BeliefsState, AppEventType>({
  name: 'beliefs',
  version: 4,
  decoder: assertionDecoder(),
  // ids and subjects are user input: dictionaries, so that "toString" or "__proto__" are plain keys
  initialState: () => ({ bySubject: dictionary(), subjectOf: dictionary(), retracted: 0 }),
  deserialize: (data) => {
    const d = data as BeliefsState;
    return { bySubject: toDictionary(d.bySubject, (beliefs) => toDictionary(beliefs)), subjectOf: toDictionary(d.subjectOf), retracted: d.retracted };
  },
  evolve: (state, event) => applyBelief(state, event as AppEvent),
});

/** One event folded into the beliefs. */
export function applyBelief(state: BeliefsState, event: AppEvent): BeliefsState {
  if (event.type === 'AssertionMade') {
    const a = event.data;
    const before = state.subjectOf[a.id];
    if (before !== undefined && before !== a.subject) removeBelief(state, before, a.id);
    const forSubject = (state.bySubject[a.subject] ??= dictionary());
    forSubject[a.id] = { id: a.id, predicate: a.predicate, object: a.object, confidence: a.confidence, source: a.source, assertedAt: a.assertedAt, globalPosition: event.globalPosition };
    state.subjectOf[a.id] = a.subject;
  } else if (event.type === 'AssertionRetracted') {
    const subject = state.subjectOf[event.data.assertionId];
    if (subject !== undefined) {
      removeBelief(state, subject, event.data.assertionId);
      state.retracted++;
    }
  }
  return state;
}

function removeBelief(state: BeliefsState, subject: string, id: string): void {
  delete state.bySubject[subject]![id];
  delete state.subjectOf[id];
  if (Object.keys(state.bySubject[subject]!).length === 0) delete state.bySubject[subject];
}

export interface SubjectBeliefs {
  subject: string;
  /** Every standing assertion, by global position. */
  assertions: Belief[];
  /** Per predicate, the standing assertion with the highest confidence (earliest on a tie). */
  best: Record<string, Belief>;
}

export function beliefsAbout(state: BeliefsState, subject: string): SubjectBeliefs {
  const assertions = Object.values(state.bySubject[subject] ?? {}).sort((a, b) => a.globalPosition - b.globalPosition);
  const best = dictionary<Belief>(); // predicates are user input too
  for (const a of assertions) {
    const current = best[a.predicate];
    if (!current || a.confidence > current.confidence) best[a.predicate] = a;
  }
  return { subject, assertions, best };
}
