import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '@episteme/wal';
import { parseArgs, parseNonNegativeInteger, runCli, UsageError } from '@episteme/wal/cli';
import { parseTortureArgs, TortureUsageError } from '../args.js';
import type { Rng } from '../rng.js';
import type { FuzzContext } from './fileTargets.js';
import { describe } from './fileTargets.js';
import { randomString } from './gen.js';
import { randomWord, restore, safeWord, snapshotTree, treeDiff } from './tree.js';

/** The demo app's CLI, loaded lazily (it needs reflect-metadata first, and may not exist). */
export type DemoCli = (argv: readonly string[], io: { stdout(s: string): void; stderr(s: string): void; stderrIsTTY: boolean; env?: NodeJS.ProcessEnv }) => Promise<number>;

const WAL_WORDS = ['segments', 'dump', 'verify', 'recover', 'append', 'help', 'nope', '--json', '--from', '--limit', '--repair', '--max-payload-bytes', '--durability', '--help', '-h', '--debug', '--', '-', '-x', '--from=', '--limit=0', '--json=1', '--max-payload-bytes=0'];
const VALUES = ['0', '1', '-1', '40', '85', '9007199254740991', '9007199254740992', '1e3', '0x10', ' ', '', 'NaN', 'Infinity', '01', 'immediate', 'none', '\u{1F4A5}', 'a'.repeat(300)];
const FIXTURES = ['clean', 'torn', 'sealed', 'free', 'empty', 'afile', 'afile/journal', 'missing', 'missing/journal', '.', 'clean/', './torn'];

/** Journals the CLI fuzz runs against, with pristine copies to restore after a legitimate change. */
export async function makeWalFixtures(scratch: string): Promise<void> {
  const pristine = join(scratch, 'pristine');
  const build = async (name: string): Promise<{ dir: string; segments: string[] }> => {
    const dir = join(pristine, name);
    const j = await Journal.open({ dir, maxSegmentBytes: 400, preallocateBytes: 0 });
    await j.appendBatch(Array.from({ length: 12 }, (_, i) => Buffer.from(`record-${i}-${'x'.repeat(i * 3)}`)));
    await j.close();
    return { dir, segments: readdirSync(dir).filter((f) => f.endsWith('.wal')).sort() };
  };
  await build('clean');
  const torn = await build('torn');
  appendFileSync(join(torn.dir, torn.segments[torn.segments.length - 1]!), Buffer.from([7, 0, 0, 0, 1, 2, 3]));
  const sealed = await build('sealed');
  const first = join(sealed.dir, sealed.segments[0]!);
  const bytes = readFileSync(first);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x40;
  writeFileSync(first, bytes);
  const free = await build('free');
  appendFileSync(join(free.dir, free.segments[free.segments.length - 1]!), new Uint8Array(512));
  mkdirSync(join(pristine, 'empty'), { recursive: true });
  writeFileSync(join(pristine, 'afile'), 'not a journal\n');
  restore(pristine, join(scratch, 'cli'));
}

function walArgv(rng: Rng): string[] {
  const argv: string[] = [];
  for (let i = rng.chance(0.4) ? 0 : rng.int(1, 5); i > 0; i--) {
    const k = rng.int(0, 9);
    if (k < 4) argv.push(rng.pick(WAL_WORDS));
    else if (k < 6) argv.push(rng.pick(VALUES));
    else if (k < 8) argv.push(rng.pick(FIXTURES));
    else argv.push(randomWord(rng));
  }
  // a well-formed command most of the time, so the parser's deeper paths are reached
  if (rng.chance(0.6)) argv.unshift(rng.pick(['segments', 'dump', 'verify', 'recover', 'append']), rng.pick(FIXTURES));
  return argv.map(safeWord);
}

const CHANGING = new Set(['recover', 'append']);

/** `episteme-wal` with random argument vectors: exit codes 0/1/2, typed errors only, nothing changed unless it succeeded at changing. */
export async function fuzzWalCli(rng: Rng, ctx: FuzzContext): Promise<void> {
  const cli = join(ctx.scratch, 'cli');
  const argv = walArgv(rng);
  const before = snapshotTree(cli);
  let err = '';
  const lines = Array.from({ length: rng.int(0, 3) }, () => (rng.chance(0.9) ? randomString(rng, 40).replace(/\n/g, '') : 'y'.repeat(rng.int(60, 3000))));
  const stdin = (async function* () {
    for (const l of lines) yield Buffer.from(`${l}\n`);
  })();
  const prev = process.cwd();
  process.chdir(cli);
  let code: number;
  try {
    code = await runCli(argv, { stdout: () => undefined, stderr: (s) => void (err += s), stderrIsTTY: rng.chance(0.2), stdin, now: () => 0 });
  } finally {
    process.chdir(prev);
  }
  const shown = JSON.stringify(argv).slice(0, 300);
  ctx.tally(`episteme-wal exit ${code}`);
  if (![0, 1, 2].includes(code)) ctx.bad(`episteme-wal ${shown} exited ${code}`);
  if (/--debug for the stack trace/.test(err)) ctx.bad(`episteme-wal ${shown} hit an untyped error: ${err.trim().slice(0, 300)}`);
  const diff = treeDiff(before, snapshotTree(cli));
  if (diff.length > 0) {
    const command = argv.filter((a) => !['--help', '-h', '--debug'].includes(a))[0];
    const help = argv.includes('--help') || argv.includes('-h') || command === 'help';
    const allowed = !help && command !== undefined && CHANGING.has(command) && (code === 0 || command === 'append');
    if (!allowed) ctx.bad(`episteme-wal ${shown} exited ${code} and changed files: ${diff.slice(0, 5).join(', ')}`);
    restore(join(ctx.scratch, 'pristine'), cli);
  }
}

const DEMO_WORDS = ['assert', 'retract', 'import', 'beliefs', 'stats', 'consumers', 'list', 'reset', 'delete', 'projections', 'rebuild', 'wal', 'segments', 'dump', 'verify', 'recover', 'help', 'beliefs', 'stats', 'streams', 'show', '--prefix', '--events', '--lock-wait'];
const DEMO_FLAGS = ['--data', '--durability', '--group-commit', '--segment-bytes', '--json', '--debug', '--help', '-h', '--subject', '--predicate', '--object', '--confidence', '--source', '--id', '--reason', '--to', '--from', '--limit'];
const DEMO_VALUES = ['data', 'nope', './data', 'earliest', 'latest', '0', '-5', '1.5', '2', '0.5', 'abc', 'on', 'off', '1024', '1e9', 'audit-export', 'projection.beliefs', 'beliefs', 'stats', 'in.ndjson', 'missing.ndjson', 'sun', 'is', 'hot', '', 'assertion-', 'assertion-x', '-bad', 'x'.repeat(300)];

/** Sets up the demo fixture: a data directory with a few assertions, and an import file. */
export async function makeDemoFixtures(scratch: string, demo: DemoCli): Promise<void> {
  const dir = join(scratch, 'demo-pristine');
  mkdirSync(dir, { recursive: true });
  const prev = process.cwd();
  process.chdir(dir);
  try {
    for (const [s, p, o] of [['sun', 'is', 'hot'], ['moon', 'is', 'cold'], ['sun', 'is', 'a star']]) {
      const code = await demo(['--data', 'data', '--segment-bytes', '2048', 'assert', '--subject', s!, '--predicate', p!, '--object', o!], { stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false, env: {} });
      if (code !== 0) throw new Error(`demo fixture: assert exited ${code}`);
    }
  } finally {
    process.chdir(prev);
  }
  writeFileSync(join(dir, 'in.ndjson'), '{"subject":"a","predicate":"b","object":"c"}\nnot json\n{"subject":1}\n');
  restore(dir, join(scratch, 'demo'));
}

function demoArgv(rng: Rng): string[] {
  const argv: string[] = [];
  if (rng.chance(0.7)) argv.push('--data', rng.pick(['data', 'data', 'nope', 'in.ndjson']));
  if (rng.chance(0.5)) argv.push('--json');
  if (rng.chance(0.7)) {
    const cmd = rng.pick([['assert', '--subject', rng.pick(['sun', '', 'x'.repeat(300)]), '--predicate', 'is', '--object', rng.pick(['hot', 'warm'])], ['assert'], ['retract', 'x'], ['retract', 'x', '--reason', 'wrong'], ['import', 'in.ndjson'], ['beliefs', 'sun'], ['stats'], ['consumers', 'list'], ['consumers', 'reset', 'audit-export'], ['consumers', 'delete', 'nope'], ['projections', 'list'], ['projections', 'rebuild', 'beliefs'], ['wal', 'verify'], ['wal', 'dump'], ['wal', 'dump', '--events'], ['wal', 'segments'], ['streams', 'list'], ['streams', 'list', '--prefix', 'assertion-'], ['streams', 'show', 'assertion-x'], ['streams', 'show', '-bad']]);
    argv.push(...cmd);
  }
  for (let i = rng.chance(0.4) ? 0 : rng.int(1, 5); i > 0; i--) {
    const k = rng.int(0, 9);
    if (k < 3) argv.push(rng.pick(DEMO_FLAGS));
    else if (k < 6) argv.push(rng.pick(DEMO_VALUES));
    else if (k < 8) argv.push(rng.pick(DEMO_WORDS));
    else argv.push(randomWord(rng));
  }
  return argv.map(safeWord);
}

/** The demo's `episteme` CLI with random argument vectors. */
export async function fuzzDemoCli(rng: Rng, ctx: FuzzContext, demo: DemoCli): Promise<void> {
  const cwd = join(ctx.scratch, 'demo');
  const argv = demoArgv(rng);
  const before = snapshotTree(cwd);
  let out = '';
  let err = '';
  const prev = process.cwd();
  process.chdir(cwd);
  let code: number;
  try {
    code = await demo(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stderrIsTTY: false, env: {} });
  } finally {
    process.chdir(prev);
  }
  const shown = JSON.stringify(argv).slice(0, 300);
  ctx.tally(`episteme (demo) exit ${code}`);
  if (![0, 1, 2].includes(code)) ctx.bad(`episteme ${shown} exited ${code}`);
  if (code === 1 && argv.includes('--json')) {
    const m = /"code":"([^"]*)"/.exec(out);
    if (m?.[1] === 'APP_ERROR') ctx.bad(`episteme ${shown} failed with an untyped error: ${err.trim().slice(0, 300)}`);
  }
  if (/--debug for the stack trace/.test(err)) ctx.bad(`episteme ${shown} hit an untyped error in the wal CLI: ${err.trim().slice(0, 300)}`);
  const diff = treeDiff(before, snapshotTree(cwd));
  if (diff.length > 0) {
    // exit 2 (bad input) changes nothing; exit 1 neither, except the documented
    // partial successes: import skips invalid lines, wal append keeps earlier lines
    const words = argv.filter((w) => !w.startsWith('-'));
    const partial = words.includes('import') || (words.includes('wal') && words.includes('append'));
    const writing = ['assert', 'retract', 'import', 'reset', 'delete', 'rebuild', 'recover', 'append'].some((w) => words.includes(w));
    const reading = ['stats', 'beliefs', 'list', 'show', 'verify', 'dump', 'segments', 'help'].some((w) => words.includes(w)) || argv.includes('--help') || argv.includes('-h');
    if (code === 2 || (code === 1 && !partial)) ctx.bad(`episteme ${shown} exited ${code} and changed files: ${diff.slice(0, 6).join(', ')}`);
    else if (reading && !writing) ctx.bad(`episteme ${shown}, a read-only command, changed files (exit ${code}): ${diff.slice(0, 6).join(', ')}`);
    restore(join(ctx.scratch, 'demo-pristine'), cwd);
  }
}

const SPEC = {
  positionals: [{ name: 'dir', description: '' }],
  flags: {
    json: { type: 'boolean', description: '' },
    from: { type: 'integer', value: 'offset', description: '' },
    name: { type: 'string', description: '' },
  },
} as const;

/** The small argument parsers, directly. */
export async function fuzzArgParsers(rng: Rng, ctx: FuzzContext): Promise<void> {
  const argv = Array.from({ length: rng.int(0, 5) }, () => (rng.chance(0.5) ? rng.pick(['--json', '--from', '--from=1', '--name', '--name=', '--', '-', '-j', '--json=no', 'dir', '--minutes', '--seed', '--session', '--keep', '1', '-1', '1.5', '']) : randomWord(rng)));
  try {
    const parsed = parseArgs(argv, SPEC);
    if (parsed.flags.from !== undefined && !Number.isSafeInteger(parsed.flags.from)) ctx.bad(`parseArgs accepted --from ${parsed.flags.from}`);
  } catch (err) {
    if (!(err instanceof UsageError)) ctx.bad(`parseArgs(${JSON.stringify(argv)}) threw ${describe(err)}`);
  }
  const word = rng.chance(0.5) ? randomWord(rng) : rng.pick(['0', '00', '-0', '9007199254740992', '9007199254740991', '1e3', ' 1', '1 ', '+1', '٣']);
  try {
    const n = parseNonNegativeInteger(word, 'x');
    if (!Number.isSafeInteger(n) || n < 0 || String(n) !== word) ctx.bad(`parseNonNegativeInteger(${JSON.stringify(word)}) = ${n}`);
  } catch (err) {
    if (!(err instanceof UsageError)) ctx.bad(`parseNonNegativeInteger threw ${describe(err)}`);
  }
  try {
    parseTortureArgs(argv);
  } catch (err) {
    if (!(err instanceof TortureUsageError)) ctx.bad(`the torture's own parser threw ${describe(err)} on ${JSON.stringify(argv)}`);
  }
}
