#!/usr/bin/env node
// Committed plain JS on purpose: npm links a workspace bin at install time
// only if its target file exists then, and dist/ does not exist before the
// first build. The CLI itself is compiled TypeScript in dist/cli/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'episteme-wal: @episteme/wal is not built (dist/cli/bin.js is missing): run `npm run build` ' +
      '(or `npm ci`, which builds via the root prepare script) in the repository root\n',
  );
  process.exit(2);
}
await import(entry.href);
