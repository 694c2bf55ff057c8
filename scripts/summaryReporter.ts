import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * vitest's own closing line is not machine-friendly; CI wants a last line of
 * the form `N passed, N failed` so that a run that executed nothing shows.
 * The line is also written to .vitest-summary for .ci/run to repeat last.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but is a failure.
      if (mod.state() === 'failed' && ![...mod.children.allTests()].some((t) => t.result().state === 'failed')) failed++;
    }
    const line = `${passed} passed, ${failed} failed`;
    writeFileSync('.vitest-summary', `${line}\n`);
    process.stdout.write(`\nSummary: ${line}, ${skipped} skipped\n`);
  }
}
