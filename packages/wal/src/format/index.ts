export * from './constants.js';
export * from './segmentName.js';
export * from './segmentHeader.js';
export * from './record.js';
