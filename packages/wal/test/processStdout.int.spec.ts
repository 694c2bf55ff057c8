/**
 * processStdout against a fake stream, for the ways a failure can reach it
 * that a spawned `| head` does not choose between: the EPIPE as an 'error'
 * event while a write waits for 'drain', or thrown by write() itself; an
 * error that is not a closed pipe; a stream closed without an error.
 * cli.pipe.e2e.spec.ts covers the real pipe.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdoutClosedError } from '../src/cli/output.js';
import { processStdout } from '../src/cli/processStdout.js';

const PAUSE = 4 * 1024 * 1024; // STDOUT_PAUSE_BYTES
const big = 'x'.repeat(PAUSE);

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code, errno: -1, syscall: 'write' });
}

/** A stream whose writes never complete until `finish` is called: its queue only grows, as on a full pipe. */
function stuckStream(): { stream: Writable; finish: (err?: Error) => void } {
  let pending: ((err?: Error | null) => void) | undefined;
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(_chunk, _enc, cb) {
      pending = cb;
    },
  });
  return { stream, finish: (err) => pending!(err ?? null) };
}

describe('processStdout', () => {
  it('an EPIPE while waiting for drain: the wait rejects with StdoutClosedError, and so does every later write', async () => {
    const { stream, finish } = stuckStream();
    const out = processStdout(stream);
    const wait = out(big);
    expect(wait).toBeInstanceOf(Promise);
    finish(errno('EPIPE'));
    await expect(wait).rejects.toBeInstanceOf(StdoutClosedError);
    expect(() => out('more\n')).toThrow(StdoutClosedError);
  });

  it('an EPIPE thrown by write() itself becomes StdoutClosedError', () => {
    const stream = new Writable({ write: (_c, _e, cb) => cb() });
    stream.write = () => {
      throw errno('EPIPE');
    };
    expect(() => processStdout(stream)('x\n')).toThrow(StdoutClosedError);
  });

  it('an error that is not a closed pipe keeps its own error, for the command to report', async () => {
    const { stream, finish } = stuckStream();
    const out = processStdout(stream);
    const wait = out(big);
    const eio = errno('EIO');
    finish(eio);
    await expect(wait).rejects.toBe(eio);
    expect(() => out('more\n')).toThrow(eio);
  }, 10_000);

  it('a stream closed without an error while a write waits: the wait ends with StdoutClosedError instead of hanging', async () => {
    const { stream } = stuckStream();
    const out = processStdout(stream);
    const wait = out(big);
    stream.destroy();
    await expect(wait).rejects.toBeInstanceOf(StdoutClosedError);
    expect(() => out('more\n')).toThrow(StdoutClosedError);
  }, 10_000); // a wait that never settles fails here, not after the suite's minute

  it('below the pause threshold nothing waits; at it, the wait ends at drain', async () => {
    const { stream, finish } = stuckStream();
    const out = processStdout(stream);
    expect(out('small\n')).toBeUndefined();
    const wait = out(big);
    expect(wait).toBeInstanceOf(Promise);
    finish(); // 'small\n' is written; the big chunk is next
    finish(); // the queue is empty: 'drain'
    await expect(wait).resolves.toBeUndefined();
  });
});
