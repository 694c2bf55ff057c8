import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Journal, type JournalOptions } from '@episteme/wal';
import type { SimulatedDisk } from '@episteme/wal/testing';
import { decodeEvents, decodeHeader } from '../src/commit/decodeCommit.js';
import { KIND_COMMIT } from '../src/commit/layout.js';

const made: string[] = [];
afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(prefix = 'episteme-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface LoggedCommit {
  offset: number;
  kind: 'commit' | 'tombstone';
  stream: string;
  firstPosition: number;
  ids: string[];
  types: string[];
}

/** Every record of the journal decoded as a commit, read independently of the store (a fold of the log). */
export async function readCommits(options: JournalOptions): Promise<LoggedCommit[]> {
  const journal = await Journal.open(options);
  try {
    const out: LoggedCommit[] = [];
    for await (const rec of journal.readFrom(journal.earliest)) {
      const h = decodeHeader(rec.payload, rec.offset);
      const events = h.kind === KIND_COMMIT ? decodeEvents(rec.payload, h, rec.offset) : [];
      out.push({ offset: rec.offset, kind: h.kind === KIND_COMMIT ? 'commit' : 'tombstone', stream: h.stream, firstPosition: h.firstPosition, ids: events.map((e) => e.id), types: events.map((e) => e.type) });
    }
    return out;
  } finally {
    await journal.close();
  }
}

/**
 * The stream versions a fold of the log gives, checking on the way that
 * every stream's versions are dense (each commit starts right after the
 * last, or at 1 after a tombstone). Returns the violations found.
 */
export function foldVersions(commits: LoggedCommit[]): { versions: Map<string, number>; violations: string[] } {
  const versions = new Map<string, number>();
  const violations: string[] = [];
  for (const c of commits) {
    if (c.kind === 'tombstone') {
      versions.set(c.stream, 0);
      continue;
    }
    const v = versions.get(c.stream) ?? 0;
    if (c.firstPosition !== v + 1) violations.push(`${c.stream}: commit at ${c.offset} starts at ${c.firstPosition}, after version ${v}`);
    versions.set(c.stream, c.firstPosition + c.ids.length - 1);
  }
  return { versions, violations };
}

/** Every file below `dir` with a hash of its bytes: equal snapshots mean nothing was written. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== 'LOCK') out[p] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Makes the next write to a segment file fail once with ENOSPC (a journal write the store sees fail). */
export function failNextSegmentWrite(disk: SimulatedDisk): void {
  let failed = false;
  disk.inject = (call) => {
    if (!failed && call.op === 'write' && call.path.endsWith('.wal')) {
      failed = true;
      return { error: 'ENOSPC' };
    }
    return undefined;
  };
}
