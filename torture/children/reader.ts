/**
 * Torture reader process: a read-only journal tailing the writer from the
 * earliest retained record. Prints:
 *   r <offset> <next> <digest>   a record read in order (digest of its payload)
 *   rr <offset> <next> <digest>  an earlier record read again by offset
 *   gap <offset>                 a read fell below what cleanup kept; the tail goes on from <offset>
 *   e <code> <message>           any other error (the reader stops)
 *   diag <text>                  after an error: where it was thrown, the view, the files
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, WalErrorCodes, isWalError, nodeFileIO } from '@episteme/wal';
import { readPublishedHead } from '@episteme/wal/internals';
import type { ReaderConfig } from '../lib/childConfig.js';
import { digest } from '../lib/files.js';
import { Rng } from '../lib/rng.js';
import { codeOf, configFromArgv, describe, out, watchParent } from './common.js';

watchParent();
const cfg = configFromArgv<ReaderConfig>();
const rng = new Rng(cfg.seed);
const journal = await Journal.openForRead({ dir: cfg.dir, pollIntervalMs: cfg.pollIntervalMs });
const seen: number[] = [];

let from = journal.earliest;
for (;;) {
  try {
    for await (const rec of journal.readFrom(from, { follow: true })) {
      out(`r ${rec.offset} ${rec.next} ${digest(rec.payload)}`);
      from = rec.next;
      if (cfg.randomReads) {
        seen.push(rec.offset);
        if (seen.length > 512) seen.splice(0, 256);
        if (rng.chance(0.05)) {
          const o = rng.pick(seen);
          const again = journal.read(o);
          if (again) out(`rr ${again.offset} ${again.next} ${digest(again.payload)}`);
        }
      }
    }
    break;
  } catch (err) {
    if (isWalError(err, WalErrorCodes.OffsetOutOfRange)) {
      // a random re-read or the tail fell below what cleanup kept
      from = Math.max(from, journal.earliest);
      out(`gap ${from}`);
      continue;
    }
    out(`e ${codeOf(err)} ${describe(err)}`);
    try {
      out(`diag ${diagnose(err)}`);
    } catch (diagErr) {
      out(`diag unavailable: ${describe(diagErr)}`); // the error line above is what counts
    }
    process.exit(1);
  }
}

/** What a finding needs to be understood: the throwing frames, the view against the files. */
function diagnose(err: unknown): string {
  const frames = (err instanceof Error ? (err.stack ?? '') : '').split('\n').filter((l) => l.includes(' at ')).slice(0, 4).map((l) => l.trim().replace(/\(.*\/(src|children)\//, '('));
  const files = readdirSync(cfg.dir)
    .sort()
    .map((f) => {
      try {
        return `${f}:${statSync(join(cfg.dir, f)).size}`;
      } catch {
        return `${f}:gone`;
      }
    });
  return `from=${from} head=${journal.head} earliest=${journal.earliest} published=${String(readPublishedHead(nodeFileIO, cfg.dir))} files=[${files.join(' ')}] at ${frames.join(' < ')}`;
}
