/** Deterministic, varied assertions for the demo and the tests. */
const SUBJECTS = Array.from({ length: 2000 }, (_, i) => `entity-${i}`);
const PREDICATES = ['orbits', 'isA', 'partOf', 'locatedIn', 'discoveredBy', 'hasMass', 'hasColor', 'memberOf', 'precedes', 'causes', 'contains', 'namedAfter'];
const SOURCES = ['wikidata', 'survey-2026', 'sensor-net', 'curator', 'import', 'inference'];

export function assertionInput(i: number, producer: number): Record<string, unknown> {
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  return {
    subject: SUBJECTS[h % SUBJECTS.length],
    predicate: PREDICATES[(h >>> 11) % PREDICATES.length],
    object: `value-${(h >>> 7) % 5000}`,
    confidence: ((h >>> 3) % 1001) / 1000,
    source: SOURCES[(i + producer) % SOURCES.length],
  };
}
