export type { LogReader, LogRecord, ReadFromOptions, Retention } from './logReader.js';
export type { CursorState, CursorStore } from './cursorStore.js';
export type { Appended } from './appended.js';
