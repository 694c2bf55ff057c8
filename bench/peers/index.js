// The one module the streams suite imports from this directory (by path, after
// `npm ci --prefix bench/peers`): bare imports here resolve against
// bench/peers/node_modules, which the main install never sees.
export { getSQLiteEventStore, readMessagesBatch as readSQLiteMessagesBatch, sqliteConnection } from '@event-driven-io/emmett-sqlite';
export { getPostgreSQLEventStore, readMessagesBatch as readPostgreSQLMessagesBatch } from '@event-driven-io/emmett-postgresql';
export { dumbo } from '@event-driven-io/dumbo';
