import { describe, expect, it } from 'vitest';
import { Journal, WalErrorCodes, isWalError, nodeFileIO, verifyJournal } from '../src/index.js';
import { HEADER_SIZE, loadRecoveryPoint } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../src/format/constants.js';
import { spawnChild } from './children/spawn.js';
import { tempDir } from './helpers.js';
import { SOAK, seededRandom } from './rng.js';

/** Adds the `ack <offset> <payload>` lines of an appender child to `acked`. */
function collectAcks(lines: string[], acked: Map<number, string>): void {
  for (const line of lines) {
    if (!line.startsWith('ack ')) continue;
    const [, offset, payload] = line.split(' ');
    acked.set(Number(offset), payload!);
  }
}

const KILLS = Math.max(30, Number(process.env.EPISTEME_CRASH_KILLS ?? 0) || 30 * SOAK);

describe('Journal crash safety with real processes', () => {
  it(`keeps every acknowledged record across ${KILLS} SIGKILLs of a writer (with and without group commit)`, async () => {
    const rnd = seededRandom(42);
    const dir = tempDir();
    const acked = new Map<number, string>();
    let cutsSeen = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const group = kill % 2 === 1;
      const appenders = group ? 1 + Math.floor(rnd() * 8) : 1 + Math.floor(rnd() * 3);
      const child = spawnChild('appender.ts', [dir, String(appenders), group ? '1' : '0', '4096', `k${kill}`]);
      await child.waitFor((l) => l.startsWith('ready'));
      // let it append for a random while, then kill it mid-stream
      await new Promise((r) => setTimeout(r, 20 + rnd() * 150));
      child.proc.kill('SIGKILL');
      await child.exited;
      collectAcks(child.lines, acked);
      const journal = await Journal.open({ dir });
      cutsSeen += journal.recovery!.cuts.length;
      for (const [offset, payload] of acked) {
        const rec = journal.read(offset);
        expect(rec && Buffer.from(rec.payload).toString(), `kill ${kill}: offset ${offset}`).toBe(payload);
      }
      await journal.close();
    }
    // the log is a clean prefix: dense offsets, every record valid
    const report = verifyJournal(dir);
    expect(report.ok, JSON.stringify(report.problems)).toBe(true);
    const journal = await Journal.open({ dir });
    let expected = 0;
    let count = 0;
    for await (const rec of journal.readFrom(0)) {
      expect(rec.offset).toBe(expected);
      expected = rec.next;
      count++;
    }
    expect(count).toBeGreaterThanOrEqual(acked.size);
    expect(acked.size).toBeGreaterThan(KILLS);
    await journal.close();
    console.log(`crash test: ${KILLS} kills, ${acked.size} acknowledged records verified, ${cutsSeen} torn tails cut`);
  });

  it('an open after SIGKILL trusts the synced prefix the killed writer recorded, scans only the records after it, and loses none', async () => {
    const dir = tempDir();
    const acked = new Map<number, string>();
    let trusted = 0;
    for (let kill = 0; kill < 8; kill++) {
      const child = spawnChild('appender.ts', [dir, '4', kill % 2 ? '1' : '0', String(64 * 1024 * 1024), `p${kill}`]);
      await child.waitFor((l) => l.startsWith('ready'));
      await child.waitFor((l) => l.startsWith('ack '));
      await new Promise((r) => setTimeout(r, 30));
      child.proc.kill('SIGKILL');
      await child.exited;
      collectAcks(child.lines, acked);
      // the child's own open recorded the records it found as a synced prefix
      const point = loadRecoveryPoint(nodeFileIO, dir, DEFAULT_MAX_PAYLOAD_BYTES).prefix;
      const journal = await Journal.open({ dir });
      const report = journal.recovery!;
      if (point) {
        expect(report.lastSegmentPrefixTrusted, `kill ${kill}`).toBe(point.size);
        trusted++;
      }
      const after = [...acked.keys()].filter((o) => HEADER_SIZE + o >= (point?.size ?? 0)).length;
      expect(report.recordsVerified).toBeGreaterThanOrEqual(after);
      for (const [offset, payload] of acked) expect(Buffer.from(journal.read(offset)!.payload).toString(), `kill ${kill}: offset ${offset}`).toBe(payload);
      // closed cleanly here: the next child's open trusts that mark, withdraws it and records its own prefix
      await journal.close();
    }
    expect(trusted).toBeGreaterThanOrEqual(7);
  });

  it('refuses a second writer in another process, then takes over once the holder is SIGKILLed', async () => {
    const dir = tempDir();
    const child = spawnChild('appender.ts', [dir, '1', '0', '65536', 'holder']);
    await child.waitFor((l) => l.startsWith('ack '));
    const err = await Journal.open({ dir }).catch((e: unknown) => e);
    expect(isWalError(err, WalErrorCodes.Locked)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^journal \\S+ is locked by another writer \\(pid ${child.proc.pid} on .+, since [0-9T:.Z-]+\\)$`));
    child.proc.kill('SIGKILL');
    await child.exited;
    const journal = await Journal.open({ dir });
    expect(journal.head).toBeGreaterThan(0);
    await journal.close();
  });

  it('a reader in another process tails a writer that rotates segments and sees every record once, in order', async () => {
    const dir = tempDir();
    const writer = await Journal.open({ dir, maxSegmentBytes: 2048, groupCommit: true });
    const total = 600;
    const reader = spawnChild('tailer.ts', [dir, String(total)]);
    await reader.waitFor((l) => l === 'ready');
    const written: string[] = [];
    for (let i = 0; i < total; i += 20) {
      const batch = Array.from({ length: 20 }, (_, k) => `rec-${i + k}`);
      const offsets = (await writer.appendBatch(batch.map((b) => Buffer.from(b)))).map((a) => a.offset);
      offsets.forEach((o, k) => written.push(`rec ${o} ${batch[k]}`));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await reader.exited).toBe(0);
    expect(reader.lines.filter((l) => l.startsWith('rec '))).toEqual(written);
    await writer.close();
  });
});
