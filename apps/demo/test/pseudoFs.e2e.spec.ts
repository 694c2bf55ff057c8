/**
 * Paths on a pseudo filesystem (/proc), where mkdir answers ENOENT although
 * the parent exists: Node 20's recursive mkdir retried that forever, so
 * `episteme --data /proc/x ...` spun at full CPU and never returned. Every
 * directory the app creates must fail at once instead. Each run is a child
 * process (the old hang was a synchronous loop that no timeout in this
 * thread could interrupt): a hang fails at the per-test timeout, and the
 * child is killed after the test.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noProcfs, procPath } from '../../../packages/wal/test/procfs.js';
import { episteme, killChildren, oneLineError, spawnTs } from './cliHelpers.js';

afterEach(killChildren);

describe('a data directory under /proc', () => {
  it('episteme assert exits 1 with one line naming the directory it could not create', async (ctx) => {
    const why = noProcfs();
    if (why) {
      ctx.skip(true, why);
      return;
    }
    const data = procPath();
    const r = await episteme(['--data', data, 'assert', '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun']);
    expect(r.code).toBe(1);
    expect(oneLineError(r.stderr)).toMatch(new RegExp(`^episteme assert: creating directory ${data} failed \\(ENOENT\\): `));
  }, 10_000);

  it('the audit exporter refuses a file there with ENOENT (in a WAL_IO error)', async (ctx) => {
    const why = noProcfs();
    if (why) {
      ctx.skip(true, why);
      return;
    }
    const r = await spawnTs(join(import.meta.dirname, 'children', 'openAudit.ts'), [join(procPath(), 'audit', 'assertions.ndjson')]);
    expect(r).toMatchObject({ code: 1, stdout: 'refused WAL_IO ENOENT\n', stderr: '' });
  }, 10_000);
});
