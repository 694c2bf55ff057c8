import { eventProjection } from '@episteme/projections';
import { assertionDecoder, type AppEvent, type AppEventType } from './assertionEvents.js';
import { dictionary, toDictionary } from './dictionary.js';

export interface StatsState {
  assertions: number;
  retractions: number;
  /** Records of the journal that are not store commits, and events of assertion streams of another shape: stepped over. */
  notAssertions: number;
  byPredicate: Record<string, number>;
  bySource: Record<string, number>;
}

/**
 * Counts of assertions made, per predicate and per source, and of retractions.
 * Version 2: predicates and sources are dictionary keys (version 1 counted a
 * source named "toString" on top of the built-in function's text).
 * Version 3: records that are not assertion events are counted, not fatal.
 * Version 4: the events of the event store's assertion streams.
 */
export const statsProjection = eventProjection<StatsState, AppEventType>({
  name: 'stats',
  version: 4,
  decoder: assertionDecoder(),
  initialState: () => ({ assertions: 0, retractions: 0, notAssertions: 0, byPredicate: dictionary(), bySource: dictionary() }),
  deserialize: (data) => {
    const d = data as StatsState;
    return { assertions: d.assertions, retractions: d.retractions, notAssertions: d.notAssertions, byPredicate: toDictionary(d.byPredicate), bySource: toDictionary(d.bySource) };
  },
  evolve: (state, event) => countEvent(state, event as AppEvent),
});

/** One event counted. */
export function countEvent(state: StatsState, event: AppEvent): StatsState {
  if (event.type === 'AssertionMade') {
    state.assertions++;
    state.byPredicate[event.data.predicate] = (state.byPredicate[event.data.predicate] ?? 0) + 1;
    state.bySource[event.data.source] = (state.bySource[event.data.source] ?? 0) + 1;
  } else if (event.type === 'AssertionRetracted') {
    state.retractions++;
  } else {
    state.notAssertions++;
  }
  return state;
}
