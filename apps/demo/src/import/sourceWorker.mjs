// The import worker when the app runs from its TypeScript sources (tests,
// `--conditions=source`): a worker thread does not inherit the tsx loader of
// the process, so it loads the .ts worker through tsx's API. Built code
// starts dist/import/prepareWorker.js directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
