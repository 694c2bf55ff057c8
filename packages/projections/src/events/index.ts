export { eventProjection, type EventProjection, type EventProjectionOptions } from './eventProjection.js';
export { perStreamProjection, type PerStreamProjection, type PerStreamProjectionOptions, type StreamStates } from './perStreamProjection.js';
export { payloadCodec, type EventSourceOptions } from './eventSource.js';
