import type { Projection } from '@episteme/projections';
import type { AssertionEvent } from '../domain/events.js';

export interface StatsState {
  assertions: number;
  retractions: number;
  byPredicate: Record<string, number>;
  bySource: Record<string, number>;
}

/** Counts of assertions made, per predicate and per source, and of retractions. */
export const statsProjection: Projection<StatsState, AssertionEvent> = {
  name: 'stats',
  version: 1,
  initialState: () => ({ assertions: 0, retractions: 0, byPredicate: {}, bySource: {} }),
  apply(state, event) {
    if (event.type === 'AssertionMade') {
      state.assertions++;
      state.byPredicate[event.data.predicate] = (state.byPredicate[event.data.predicate] ?? 0) + 1;
      state.bySource[event.data.source] = (state.bySource[event.data.source] ?? 0) + 1;
    } else if (event.type === 'AssertionRetracted') {
      state.retractions++;
    }
    return state;
  },
};
