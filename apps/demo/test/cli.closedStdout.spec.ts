import { afterEach, describe, expect, it } from 'vitest';
import { StdoutClosedError } from '@episteme/wal/cli';
import { runCli } from '../src/cli/main.js';
import { cli, json, removeTempDirs, tempDir } from './cliHelpers.js';

afterEach(removeTempDirs);

async function assertJson(data: string, ...flags: string[]): Promise<void> {
  const r = await cli(['--data', data, '--json', 'assert', ...flags]);
  expect(r.code, r.stderr).toBe(0);
  json(r.stdout);
}

describe('a reader that goes away', () => {
  it('a closed stdout (StdoutClosedError from the output channel) ends every command quietly: exit 0, nothing unhandled', async () => {
    const data = tempDir();
    await assertJson(data, '--subject', 'earth', '--predicate', 'orbits', '--object', 'sun');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const argv of [['stats'], ['beliefs', 'earth'], ['consumers', 'list'], ['projections', 'list'], ['--json', 'stats']]) {
        let stderr = '';
        // a reader that left while output waited: every write answers with a rejected promise
        const code = await runCli(['--data', data, ...argv], { stdout: () => Promise.reject(new StdoutClosedError()), stderr: (s) => void (stderr += s), stderrIsTTY: false, env: {} });
        expect(code, `${argv.join(' ')}: ${stderr}`).toBe(0);
        expect(stderr).toBe('');
      }
      await new Promise((r) => setTimeout(r, 50)); // unhandled rejections are reported after a turn
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
