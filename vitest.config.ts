import { defineConfig } from 'vitest/config';

/** `npm test`: every package's suite in one run, with a plain summary line. */
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'bench', 'torture'],
    reporters: ['default', './scripts/summaryReporter.ts'],
  },
});
