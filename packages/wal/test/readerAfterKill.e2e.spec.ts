import { describe, expect, it } from 'vitest';
import { Journal, nodeFileIO, type JournalReader } from '../src/index.js';
import { loadRecoveryPoint } from '../src/internals.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../src/format/constants.js';
import { spawnChild } from './children/spawn.js';
import { countingCrcBytes, tempDir } from './helpers.js';
import { seededRandom } from './rng.js';

/**
 * A reader opened on a writer SIGKILLed while it recorded synced prefixes
 * (every 4 KiB here), before and after the next writer's recovery, reads
 * exactly the records that are there to keep: before, the records up to the
 * head the dead writer had published (every acknowledged one among them);
 * after, the records the writer recovered. Its open takes the prefix by the
 * last record the mark names (vouchedPrefix.ts) where the point has one.
 */

async function openReader(dir: string): Promise<{ reader: JournalReader; hashed: number }> {
  const { value, hashed } = await countingCrcBytes(() => Journal.openForRead({ dir }));
  return { reader: value, hashed };
}

async function contents(log: { readFrom: JournalReader['readFrom'] }): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  for await (const r of log.readFrom(0)) out.push([r.offset, Buffer.from(r.payload).toString()]);
  return out;
}

describe('a reader on a journal whose writer was SIGKILLed while it recorded synced prefixes', () => {
  it('reads exactly the published records before the recovery and the recovered ones after, every acknowledged one among them (8 kills)', async () => {
    const rnd = seededRandom(2024);
    const dir = tempDir();
    const acked = new Map<number, string>();
    let shortcuts = 0;
    for (let kill = 0; kill < 8; kill++) {
      const child = spawnChild('appender.ts', [dir, String(1 + (kill % 4)), kill % 2 ? '1' : '0', String(64 * 1024 * 1024), `r${kill}`, '4096']);
      await child.waitFor((l) => l.startsWith('ready'));
      await child.waitFor((l) => l.startsWith('ack '));
      await new Promise((r) => setTimeout(r, 40 + rnd() * 120));
      child.proc.kill('SIGKILL');
      await child.exited;
      for (const line of child.lines) {
        if (!line.startsWith('ack ')) continue;
        const [, offset, payload] = line.split(' ');
        acked.set(Number(offset), payload!);
      }

      // before the recovery: up to the dead writer's published head
      const prefix = loadRecoveryPoint(nodeFileIO, dir, DEFAULT_MAX_PAYLOAD_BYTES).prefix;
      const early = await openReader(dir);
      const before = await contents(early.reader);
      const publishedHead = early.reader.head;
      await early.reader.close();
      if (prefix?.last && early.hashed < prefix.size / 2) shortcuts++;

      const writer = await Journal.open({ dir });
      try {
        const recovered = await contents(writer);
        const late = await openReader(dir);
        try {
          // after: exactly what the writer recovered
          expect(late.reader.head, `kill ${kill}`).toBe(writer.head);
          expect(await contents(late.reader), `kill ${kill}`).toEqual(recovered);
        } finally {
          await late.reader.close();
        }
        expect(before, `kill ${kill}`).toEqual(recovered.filter(([o]) => o < publishedHead));
        const kept = new Map(before);
        for (const [offset, payload] of acked) expect(kept.get(offset), `kill ${kill}: acknowledged ${offset}`).toBe(payload);
      } finally {
        await writer.close();
      }
    }
    expect(acked.size).toBeGreaterThan(8);
    console.log(`reader after kill: ${shortcuts} of 8 opens took the prefix by its last record`);
    expect(shortcuts).toBeGreaterThanOrEqual(4);
  });
});
