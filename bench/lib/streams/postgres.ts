import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The machine's PostgreSQL 15 for the streams suite (issue 23): started by
 * the suite when it is installed but not running, and stopped again at the
 * end only if the suite started it. A role and a database of the bench's
 * own are created through `psql` as the postgres OS user (peer
 * authentication on the Unix socket); the event store then connects over
 * TCP to localhost with that role's password, as an application would.
 * synchronous_commit is left at its default (on): every commit waits for
 * its WAL flush, the same durability as the other columns.
 */

const VERSION = '15';
const CLUSTER = 'main';
const ROLE = 'episteme_bench';
const PASSWORD = 'episteme_bench';
const DATABASE = 'episteme_bench';
const READS = 'episteme_bench_reads';

export interface Postgres {
  connectionString: string;
  /** A second database, for the read dataset (each side reads a store of its own). */
  readsConnectionString: string;
  /** What the table notes say about this server. */
  description: string;
  /** Stops the cluster if this run started it. */
  stop(): void;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function psql(sql: string, database = 'postgres'): string {
  // runuser, not sudo: the bench runs as root on the VM and CI, and runuser needs no tty or sudoers entry
  return run('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql]).trim();
}

/** Whether the cluster is up, from pg_lsclusters (its Status column). */
function clusterOnline(): boolean {
  const line = run('pg_lsclusters', ['--no-header']).split('\n').find((l) => l.startsWith(`${VERSION} `) && l.split(/\s+/)[1] === CLUSTER);
  return line !== undefined && /\sonline\b/.test(line);
}

/**
 * Starts (if needed) and prepares PostgreSQL 15, or says why it cannot:
 * a string is the reason the PostgreSQL column is skipped.
 */
export function startPostgres(log: (m: string) => void): Postgres | string {
  // quick iterations on the other columns (the PostgreSQL column's ratios are far from their goals' edge)
  if (process.env.EPISTEME_BENCH_POSTGRES === 'off') return 'EPISTEME_BENCH_POSTGRES=off: the Emmett PostgreSQL column is skipped';
  if (!existsSync('/usr/bin/pg_ctlcluster') || !existsSync(`/usr/lib/postgresql/${VERSION}/bin/postgres`)) {
    return `no PostgreSQL ${VERSION} installed (pg_ctlcluster / /usr/lib/postgresql/${VERSION}); the Emmett PostgreSQL column is skipped`;
  }
  if (process.getuid?.() !== 0) return 'PostgreSQL is started with pg_ctlcluster as root, and this run is not root; the Emmett PostgreSQL column is skipped';
  let started = false;
  try {
    if (!clusterOnline()) {
      log(`starting PostgreSQL ${VERSION} (pg_ctlcluster ${VERSION} ${CLUSTER} start)`);
      run('pg_ctlcluster', [VERSION, CLUSTER, 'start']);
      started = true;
    }
    const exists = psql(`SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'`) === '1';
    psql(`${exists ? 'ALTER' : 'CREATE'} ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
    // a fresh database per run: no table of an earlier run grows the indexes being measured
    for (const db of [DATABASE, READS]) {
      psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      psql(`CREATE DATABASE ${db} OWNER ${ROLE}`);
    }
    const sync = psql('SHOW synchronous_commit');
    const fsync = psql('SHOW fsync');
    const version = psql('SHOW server_version');
    if (sync !== 'on' || fsync !== 'on') log(`warning: PostgreSQL has synchronous_commit=${sync}, fsync=${fsync}: its commits are not durable`);
    return {
      connectionString: `postgresql://${ROLE}:${PASSWORD}@localhost:5432/${DATABASE}`,
      readsConnectionString: `postgresql://${ROLE}:${PASSWORD}@localhost:5432/${READS}`,
      description: `PostgreSQL ${version}, synchronous_commit=${sync}, fsync=${fsync}`,
      stop: () => {
        for (const db of [DATABASE, READS]) {
          try {
            psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
          } catch {
            // the next run drops it first anyway
          }
        }
        if (started) {
          log(`stopping PostgreSQL ${VERSION} (this run started it)`);
          run('pg_ctlcluster', [VERSION, CLUSTER, 'stop']);
        }
      },
    };
  } catch (err) {
    if (started) {
      try {
        run('pg_ctlcluster', [VERSION, CLUSTER, 'stop']);
      } catch {
        // nothing more to do: the reason below is reported
      }
    }
    const e = err as { message?: string; stderr?: string };
    return `PostgreSQL ${VERSION} could not be prepared (${(e.stderr || e.message || String(err)).trim().split('\n')[0]}); the Emmett PostgreSQL column is skipped`;
  }
}
