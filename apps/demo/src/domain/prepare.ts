import { isoNow } from './clock.js';
import { AssertionMade, AssertionRetracted, streamOf, validated, type AssertionEvent, type EventMetaData } from './events.js';
import { nextGeneratedId, type GeneratedId } from './generatedIds.js';

/** A validated event and the stream it goes to (its assertion's). */
export interface PreparedEvent<E extends AssertionEvent = AssertionEvent> {
  /** The assertion's id. */
  id: string;
  stream: string;
  event: E;
}

export type PreparedAssertion = PreparedEvent<Extract<AssertionEvent, { type: 'AssertionMade' }>>;
export type PreparedRetraction = PreparedEvent<Extract<AssertionEvent, { type: 'AssertionRetracted' }>>;

/** At most this many producers' metadata objects are kept (a long-running app with ever new producer names must not grow). */
const MAX_PRODUCERS = 1024;
const metadataByProducer = new Map<string, EventMetaData>();

/**
 * The metadata of a producer's events: one frozen object per producer, so
 * that the store's `appendEach` serialises it once for a batch of them
 * (its JSON cost about half an assertion's own).
 */
export function metadataOf(producer: string): EventMetaData {
  let m = metadataByProducer.get(producer);
  if (m === undefined) {
    if (metadataByProducer.size >= MAX_PRODUCERS) metadataByProducer.clear();
    m = Object.freeze({ producer, schema: 1 as const });
    metadataByProducer.set(producer, m);
  }
  return m;
}

/** Validates an assertion (id and assertedAt generated when absent) into its event. */
export function prepareAssertion(input: Record<string, unknown>, producer = 'app'): PreparedAssertion {
  return prepareOwnedAssertion({ ...input }, producer);
}

/**
 * prepareAssertion of an object the caller gives up (an import line's
 * parse): its missing id and time are filled in on it, not on a copy.
 */
export function prepareOwnedAssertion(input: Record<string, unknown>, producer: string): PreparedAssertion {
  let stream: string | undefined;
  if (input.id == null) {
    input.id = nextGeneratedId(generated).id;
    stream = generated.stream;
  }
  input.assertedAt ??= isoNow();
  const data = validated(AssertionMade, input, 'assertion');
  return { id: data.id, stream: stream ?? streamOf(data.id), event: { type: 'AssertionMade', data, metadata: metadataOf(producer) } };
}

/** Filled by nextGeneratedId for each assertion without an id. */
const generated: GeneratedId = { id: '', stream: '' };

export function prepareRetraction(input: Record<string, unknown>, producer = 'app'): PreparedRetraction {
  const plain = { ...input, retractedAt: input.retractedAt ?? isoNow() };
  const data = validated(AssertionRetracted, plain, 'retraction');
  return { id: data.assertionId, stream: streamOf(data.assertionId), event: { type: 'AssertionRetracted', data, metadata: metadataOf(producer) } };
}
