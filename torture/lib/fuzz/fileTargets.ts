import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumerRegistry, decodeCursorFile, encodeCursorFile, isConsumerError, validateConsumerName, type CursorState } from '@episteme/consumers';
import { decodeSnapshot, encodeSnapshot, FileSnapshotStore, isProjectionError, ProjectionEngine } from '@episteme/projections';
import { isWalError, Journal, recoverJournal, verifyJournal } from '@episteme/wal';
import { codeOf, decodeSegmentHeader, encodeSegmentHeader, parseSegmentName, segmentName, validateRecordAt } from '@episteme/wal/internals';
import { runCli } from '@episteme/wal/cli';
import { equalBytes, isZero } from '../files.js';
import { initialTally, tallyProjection } from '../projection.js';
import type { Rng } from '../rng.js';
import { cursorFileBytes, lyingRecordHeader, mutate, randomBytes, randomString, snapshotBytes, validSegment, concat } from './gen.js';
import { snapshotTree, treeDiff } from './tree.js';

export interface FuzzContext {
  /** The fuzz's own directory (its cwd). */
  scratch: string;
  bad(message: string): void;
  /** Counts an outcome (shown in the figures). */
  tally(key: string): void;
}

const quiet = { warn: (): void => undefined, info: (): void => undefined };
const sink = { stdout: (): void => undefined, stderr: (): void => undefined, stderrIsTTY: false };

/** Runs `fn`; an error that `typed` does not accept is a bug. */
async function only(ctx: FuzzContext, what: string, typed: (err: unknown) => boolean, fn: () => unknown): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (!typed(err)) ctx.bad(`${what} threw an untyped error: ${describe(err)}`);
    return false;
  }
}

export function describe(err: unknown): string {
  const code = codeOf(err);
  const name = err instanceof Error ? err.constructor.name : typeof err;
  return `${name}${code !== undefined ? ` ${code}` : ''}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200)}`;
}

const walTyped = (err: unknown): boolean => isWalError(err);
const anyTyped = (err: unknown): boolean => isWalError(err) || isConsumerError(err) || isProjectionError(err);

/** Pure format decoders: they return verdicts and must never throw. */
export async function fuzzFormat(rng: Rng, ctx: FuzzContext): Promise<void> {
  const header = rng.chance(0.5) ? randomBytes(rng, 80) : mutate(rng, encodeSegmentHeader(rng.int(0, 2 ** 40)));
  await only(ctx, 'decodeSegmentHeader', () => false, () => {
    const r = decodeSegmentHeader(header, rng.chance(0.5) ? rng.int(0, 2 ** 40) : undefined);
    if (r.ok && !Number.isSafeInteger(r.baseOffset)) ctx.bad(`decodeSegmentHeader accepted an unsafe base ${r.baseOffset}`);
  });
  const name = rng.chance(0.5) ? randomString(rng, 24) : segmentName(rng.int(0, 2 ** 52)).replace(/./, (c) => (rng.chance(0.3) ? rng.pick(['G', 'F', '0', '']) : c));
  await only(ctx, 'parseSegmentName', () => false, () => {
    const base = parseSegmentName(name);
    if (base !== undefined && (!Number.isSafeInteger(base) || segmentName(base) !== name)) ctx.bad(`parseSegmentName(${JSON.stringify(name)}) = ${base}`);
  });
  const seg = mutate(rng, validSegment(rng, 0, rng.int(0, 4)).bytes);
  await only(ctx, 'validateRecordAt', () => false, () => validateRecordAt(seg, rng.int(0, seg.length), rng.int(0, seg.length + 8), rng.pick([0, 16, 1 << 24, 0xffffffff])));
}

/** Random and damaged segment files: readers, verify and the CLI change nothing; recovery copies every cut byte. */
export async function fuzzSegments(rng: Rng, ctx: FuzzContext, n: number): Promise<void> {
  const dir = join(ctx.scratch, 'segments', String(n));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let base = rng.chance(0.8) ? 0 : rng.int(1, 1e6);
  const segments = rng.int(0, 3);
  for (let i = 0; i < segments; i++) {
    const seg = validSegment(rng, base, rng.int(0, 6));
    let bytes = seg.bytes;
    const last = i === segments - 1;
    if (rng.chance(last ? 0.6 : 0.2)) bytes = mutate(rng, bytes);
    if (last && rng.chance(0.2)) bytes = concat(bytes, lyingRecordHeader(rng, rng.pick([0xffffffff, 0xfffffffe, 1 << 24, (1 << 24) + 1])));
    if (last && rng.chance(0.2)) bytes = concat(bytes, new Uint8Array(rng.int(1, 4096)));
    if (rng.chance(0.1)) bytes = randomBytes(rng, 200);
    const file = rng.chance(0.9) ? segmentName(base) : rng.pick([segmentName(base).toUpperCase(), `${segmentName(base)}.tmp`, 'ffffffffffffffff.wal', '0000000000000000.wal']);
    if (rng.chance(0.05) && !existsSync(join(dir, file))) mkdirSync(join(dir, file), { recursive: true });
    else if (!existsSync(join(dir, file))) writeFileSync(join(dir, file), bytes);
    base = rng.chance(0.9) ? seg.end : seg.end + rng.int(-50, 50);
  }
  const maxPayloadBytes = rng.pick([undefined, 64, 1024, 0xffffffff]);
  const limit = maxPayloadBytes === undefined ? {} : { maxPayloadBytes };
  const before = snapshotTree(dir);
  const original = new Map<string, Uint8Array>();
  for (const p of before.keys()) if (!p.endsWith('/')) original.set(p, readFileSync(join(dir, p)));

  await only(ctx, 'verifyJournal', walTyped, () => verifyJournal(dir, limit));
  await only(ctx, 'a read-only journal', walTyped, async () => {
    const j = await Journal.openForRead({ dir, ...limit });
    try {
      let count = 0;
      await only(ctx, 'readFrom', walTyped, async () => {
        for await (const rec of j.readFrom(j.earliest)) if (++count > 10_000 || !rec) break;
      });
      const offsets = [-1, 0, 1, 0.5, Number.NaN, 2 ** 53, j.head, j.earliest, j.earliest + 40, rng.int(0, j.head + 100)];
      for (const o of offsets) {
        await only(ctx, `read(${o})`, walTyped, () => j.read(o));
        await only(ctx, `readMany(${o})`, walTyped, () => j.readMany(o, rng.int(0, 50)));
        await only(ctx, `countRecords(${o})`, walTyped, () => j.countRecords(o, rng.chance(0.5) ? j.head : rng.int(-5, j.head + 5)));
      }
      await only(ctx, 'segmentList', walTyped, () => j.segmentList());
    } finally {
      await j.close();
    }
  });
  const argv = [rng.pick(['verify', 'dump', 'segments']), dir, ...(rng.chance(0.5) ? ['--json'] : []), ...(maxPayloadBytes !== undefined && rng.chance(0.7) ? ['--max-payload-bytes', String(maxPayloadBytes)] : [])];
  let err = '';
  const code = await runCli(argv, { ...sink, stderr: (s) => void (err += s) });
  if (![0, 1, 2].includes(code)) ctx.bad(`episteme-wal ${argv[0]} exited ${code}`);
  if (/--debug for the stack trace/.test(err)) ctx.bad(`episteme-wal ${argv[0]} hit an untyped error: ${err.trim().slice(0, 200)}`);
  const diff = treeDiff(before, snapshotTree(dir));
  if (diff.length > 0) ctx.bad(`reading a damaged journal changed files: ${diff.join(', ')}`);

  // the writer: recovery either refuses (typed, nothing changed) or cuts, copying every cut byte first
  const repair = rng.chance(0.3);
  let journal: Journal | undefined;
  try {
    journal = await Journal.open({ dir, repair, preallocateBytes: 0, ...limit });
  } catch (e) {
    if (!isWalError(e)) ctx.bad(`writer open on a damaged journal threw an untyped error: ${describe(e)}`);
    const changed = treeDiff(before, snapshotTree(dir));
    if (changed.length > 0) ctx.bad(`a refused recovery changed files: ${changed.join(', ')}`);
    return;
  }
  for (const cut of journal.recovery!.cuts) {
    const source = original.get(cut.segment);
    const q = readFileSync(join(dir, cut.quarantine));
    const expected = source?.subarray(cut.position, cut.position + cut.bytes);
    const same = expected && (equalBytes(q, expected) || (q.length < expected.length && equalBytes(q, expected.subarray(0, q.length)) && isZero(expected.subarray(q.length))));
    if (!same) ctx.bad(`quarantine file ${cut.quarantine} differs from the ${cut.bytes} bytes cut from ${cut.segment} at ${cut.position}`);
  }
  await journal.close();
  const after = verifyJournal(dir, limit);
  if (!after.ok) ctx.bad(`after recovery the journal does not verify: ${after.problems[0]?.message}`);
}

/** Cursor files: the decoder, then a registry over a directory full of bad ones. */
export async function fuzzCursors(rng: Rng, ctx: FuzzContext, n: number): Promise<void> {
  const bytes = cursorFileBytes(rng, (s) => encodeCursorFile(s as CursorState));
  await only(ctx, 'decodeCursorFile', (e) => isConsumerError(e, 'CONSUMER_CORRUPT_CURSOR'), () => {
    const st = decodeCursorFile(bytes, 'fuzz.cursor');
    if (!Number.isSafeInteger(st.cursor) || st.cursor < 0 || typeof st.name !== 'string') ctx.bad(`decodeCursorFile accepted ${JSON.stringify(st)}`);
  });
  if (!rng.chance(0.1)) return;
  const dir = join(ctx.scratch, 'cursors', String(n));
  rmSync(dir, { recursive: true, force: true });
  const w = await Journal.open({ dir, maxSegmentBytes: 300, preallocateBytes: 0 });
  await w.appendBatch(Array.from({ length: rng.int(0, 20) }, (_, i) => Buffer.from(`r${i}`)));
  await w.close();
  mkdirSync(join(dir, 'consumers'), { recursive: true });
  for (let i = rng.int(1, 3); i > 0; i--) {
    const file = rng.pick(['c0.cursor', 'c1.cursor', '.cursor', 'x..cursor', 'a.b.cursor', 'c0.999999.abcdef.tmp', `${randomString(rng, 6).replace(/[/\0]/g, '')}.cursor`]);
    if (file === '.cursor' || file.length > 200) continue;
    writeFileSync(join(dir, 'consumers', file), i === 1 ? bytes : cursorFileBytes(rng, (s) => encodeCursorFile(s as CursorState)));
  }
  const name = rng.chance(0.5) ? rng.pick(['c0', 'c1', 'new']) : randomString(rng, 20);
  const before = snapshotTree(dir);
  await only(ctx, 'a read-only registry', anyTyped, async () => {
    const j = await Journal.openForRead({ dir });
    try {
      const reg = ConsumerRegistry.forJournal(j, { logger: quiet });
      await only(ctx, 'registry.list (read-only)', anyTyped, () => reg.list());
      await only(ctx, 'registry.lowestCursor (read-only)', anyTyped, () => reg.lowestCursor());
      await only(ctx, 'registry.get (read-only)', anyTyped, () => reg.get(name));
      await only(ctx, 'registry.cleanup (read-only)', anyTyped, () => reg.cleanup());
    } finally {
      await j.close();
    }
  });
  const diff = treeDiff(before, snapshotTree(dir));
  if (diff.length > 0) ctx.bad(`a read-only registry over bad cursor files changed files: ${diff.join(', ')}`);
  await only(ctx, 'a writer registry', anyTyped, async () => {
    const j = await Journal.open({ dir, preallocateBytes: 0 });
    try {
      const reg = ConsumerRegistry.forJournal(j, { logger: quiet });
      await only(ctx, 'registry.list', anyTyped, () => reg.list());
      await only(ctx, 'registry.cleanup', anyTyped, () => reg.cleanup());
      await only(ctx, 'registry.register', anyTyped, () => reg.register(name, { startFrom: rng.pick(['earliest', 'latest', rng.int(-2, 400)] as const) }));
      await only(ctx, 'registry.reset', anyTyped, () => reg.reset(name, rng.pick(['earliest', 'latest', rng.int(-2, 400), 1.5, Number.NaN] as const)));
      await only(ctx, 'registry.commit', anyTyped, () => reg.commit(name, rng.pick([rng.int(-2, 400), 2 ** 53, 0.5])));
      await only(ctx, 'registry.delete', anyTyped, () => reg.delete(name));
    } finally {
      await j.close();
    }
  });
}

/** Snapshot files: the decoder, then an engine starting over a bad one. */
export async function fuzzSnapshots(rng: Rng, ctx: FuzzContext, n: number): Promise<void> {
  const valid = (): Uint8Array => encodeSnapshot({ name: 'tally', version: 1, checkpoint: 0, state: initialTally(), events: 0, savedAt: new Date(0).toISOString() });
  const bytes = snapshotBytes(rng, valid);
  await only(ctx, 'decodeSnapshot', (e) => isProjectionError(e, 'PROJECTION_CORRUPT_SNAPSHOT'), () => {
    const s = decodeSnapshot(bytes, 'fuzz.snapshot');
    if (typeof s.name !== 'string' || !Number.isSafeInteger(s.checkpoint) || s.checkpoint < 0) ctx.bad(`decodeSnapshot accepted ${JSON.stringify(s).slice(0, 200)}`);
  });
  if (!rng.chance(0.1)) return;
  const dir = join(ctx.scratch, 'snapshots', String(n));
  rmSync(dir, { recursive: true, force: true });
  const j = await Journal.open({ dir, preallocateBytes: 0 });
  try {
    await j.appendBatch(Array.from({ length: rng.int(0, 10) }, (_, i) => Buffer.from(JSON.stringify({ s: 0, c: 0, w: 0, i, p: '' }))));
    mkdirSync(join(dir, 'projections'), { recursive: true });
    writeFileSync(join(dir, 'projections', 'tally.snapshot'), bytes);
    const engine = ProjectionEngine.forJournal(j, { store: new FileSnapshotStore(dir), logger: quiet });
    engine.register(tallyProjection);
    await only(ctx, 'ProjectionEngine.start over a bad snapshot', () => false, async () => {
      const [report] = await engine.start({ follow: false });
      if (report?.mode === 'failed' && !anyTyped(report.error)) ctx.bad(`engine start failed with an untyped error: ${report.detail}`);
    });
    await engine.stop().catch(() => undefined);
  } finally {
    await j.close();
  }
}

/** Directories that are not journals: a file, below a file, a NUL byte, a loop, a long name, missing. */
export async function fuzzOddDirectories(rng: Rng, ctx: FuzzContext, n: number): Promise<void> {
  const base = join(ctx.scratch, 'odd', String(n));
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'file'), 'not a journal');
  try {
    symlinkSync(join(base, 'loop'), join(base, 'loop'));
  } catch {
    // no symlinks here
  }
  const dir = rng.pick([join(base, 'file'), join(base, 'file', 'journal'), join(base, 'a\0b'), join(base, 'loop'), join(base, 'loop', 'j'), join(base, 'x'.repeat(300)), join(base, 'missing', 'deeper'), '']);
  const before = snapshotTree(base);
  const op = rng.int(0, 5);
  const what = `${['Journal.open read-only', 'Journal.open writer', 'verifyJournal', 'recoverJournal', 'ConsumerRegistry', 'FileSnapshotStore.load'][op]}(${JSON.stringify(dir.slice(base.length))})`;
  await only(ctx, what, anyTyped, async () => {
    if (op === 0) await (await Journal.openForRead({ dir })).close();
    else if (op === 1) await (await Journal.open({ dir })).close();
    else if (op === 2) verifyJournal(dir);
    else if (op === 3) recoverJournal(dir);
    else if (op === 4) {
      const j = await Journal.open({ dir: join(base, 'j') });
      try {
        ConsumerRegistry.forJournal(j, { logger: quiet }).register(rng.pick(['c', 'x'.repeat(64)]));
      } finally {
        await j.close();
      }
    } else new FileSnapshotStore(dir).load(rng.pick(['tally', 'x']));
  });
  if (op !== 1 && op !== 4) {
    const diff = treeDiff(before, snapshotTree(base));
    if (diff.length > 0) ctx.bad(`${what} changed files: ${diff.join(', ')}`);
  }
}

/** Names and small parsers. */
export async function fuzzNames(rng: Rng, ctx: FuzzContext): Promise<void> {
  const name = rng.chance(0.3) ? rng.pick(['..', '.', 'a/b', 'a\\b', '', 'x'.repeat(65), 'x'.repeat(64), 'CON', 'a\0b', '.hidden', '-x', 'ok.name_1-2']) : randomString(rng, 70);
  await only(ctx, 'validateConsumerName', (e) => isConsumerError(e, 'CONSUMER_INVALID_NAME'), () => {
    const ok = validateConsumerName(rng.chance(0.05) ? (rng.pick([undefined, null, 5, {}]) as unknown as string) : name);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(ok)) ctx.bad(`validateConsumerName accepted ${JSON.stringify(ok)}`);
  });
}
