/** Test kit of @episteme/wal: fault injection and power-loss simulation behind the FileIO seam, and a log in memory. */
export { SimulatedDisk, type Fault, type FaultInjector, type DiskOp } from './simulatedDisk.js';
export { writeLineSync } from './lineOut.js';
export { InMemoryLog, InMemoryCursorStore, type InMemoryLogOptions } from './inMemoryLog.js';
