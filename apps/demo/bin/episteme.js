#!/usr/bin/env node
// Committed shim: npm links a workspace bin only when its target exists at
// install time, so the bin points here and this loads the build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('episteme: not built yet; run `npm run build` (or `npm ci`, which builds) at the repository root\n');
  process.exit(2);
}
await import(entry.href);
