/**
 * Child for pseudoFs.e2e.spec.ts: opens an AuditExporter on the file named
 * by argv[2] and prints `opened`, or `refused <errno code>` (exit 1). A child
 * because the failure it guards against is a synchronous endless loop.
 */
import { AuditExporter } from '../../src/consumers/auditExport.js';

try {
  new AuditExporter(process.argv[2]!).open();
  process.stdout.write('opened\n');
} catch (err) {
  process.stdout.write(`refused ${(err as { code?: string }).code ?? 'none'}\n`);
  process.exitCode = 1;
}
