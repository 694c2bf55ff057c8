export type { LogReader, LogRecord, ReadFromOptions, ReadManyOptions, Retention, TransientReadBuffer } from './logReader.js';
export type { CursorState, CursorStore } from './cursorStore.js';
export type { Appended } from './appended.js';
