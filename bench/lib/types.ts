/**
 * The contract between `bench/index.ts` and the suites in `bench/suites/`.
 * A suite is one module exporting `name` and `run(ctx)`; the runner finds it
 * by listing that directory, so adding a suite is adding one file.
 */

/** full: the sizes the goals are stated for; quick: the same shapes, smaller; smoke: tiny, only proves the code runs. */
export type Mode = 'full' | 'quick' | 'smoke';

/** Numbers stay numbers so that the JSON results can be compared across runs. */
export type Cell = string | number | null;

export interface Table {
  title: string;
  /** Lines printed under the title: goals, units, what a ratio means. */
  notes?: string[];
  columns: string[];
  rows: Cell[][];
}

export interface BenchContext {
  mode: Mode;
  /** A fresh directory, removed when the suite ends (and on SIGINT/SIGTERM). */
  tempDir(prefix?: string): string;
  /** Prints the table now and keeps it for the JSON results. */
  report(table: Table): void;
  /** Progress lines (stderr), so that stdout holds only the tables. */
  log(message: string): void;
}

/** What a module in bench/suites/ exports. */
export interface Suite {
  name: string;
  run(ctx: BenchContext): void | Promise<void>;
}
