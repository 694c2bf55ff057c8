/**
 * Child for pseudoFs.e2e.spec.ts: opens an AuditExporter on the file named
 * by argv[2] and prints `opened`, or `refused <code> <errno code of its cause>` (exit 1). A child
 * because the failure it guards against is a synchronous endless loop.
 */
import { AuditExporter } from '../../src/consumers/auditExport.js';

try {
  new AuditExporter(process.argv[2]!).open();
  process.stdout.write('opened\n');
} catch (err) {
  const { code, cause } = err as { code?: string; cause?: { code?: string } };
  process.stdout.write(`refused ${code ?? 'none'} ${cause?.code ?? 'none'}\n`);
  process.exitCode = 1;
}
