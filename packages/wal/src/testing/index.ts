/** Test kit of @episteme/wal: fault injection and power-loss simulation behind the FileIO seam. */
export { SimulatedDisk, type Fault, type FaultInjector, type DiskOp } from './simulatedDisk.js';
export { writeLineSync } from './lineOut.js';
