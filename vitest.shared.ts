import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Shared by every package's vitest.config.ts. The `source` export condition
 * makes workspace imports resolve to `src/*.ts`, so tests run on a fresh clone
 * without a build.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  // without `module`: vitest hands these conditions to Node (--conditions), and
  // @opentelemetry/api's `module` build has extensionless imports Node refuses
  // (Node's own resolution, without that condition, takes its CommonJS build)
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    include: ['test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
