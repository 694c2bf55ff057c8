export { TestCluster, natsServerCommand, natsSkipReason, type TestClusterOptions, type TestNode } from './testCluster.js';
export { streamLeader } from './streamLeader.js';
