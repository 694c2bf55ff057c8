import { ioError, NotRecordBoundaryError, OffsetOutOfRangeError, WalErrorCodes } from '../../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, HEADER_SIZE, RECORD_OVERHEAD } from '../../format/constants.js';
import { nodeFileIO } from '../../io/fileIO.js';
import { scanSegment, type RecordVisitor, type ScanResult } from '../../recovery/scanSegment.js';
import { refuseValidRecordOverLimit } from '../../recovery/overLimit.js';
import { checkSegmentHeader, type SegmentFile } from '../../recovery/segmentFiles.js';
import { CliError, commonFlags, defineCommand, ExitCode } from '../command.js';
import { holeAfter, journalSegments, type Hole } from '../journalDir.js';
import { OutputBuffer } from '../output.js';
import { eventsJsonLine, eventsTextLine, loadDescribe } from './dumpEvents.js';

/**
 * Prints records in offset order, streaming: records are validated and
 * formatted as the scan reaches them, and the scan pauses whenever stdout
 * asks us to wait. Read-only: files are opened with `r` and nothing else.
 */
export const dumpCommand = defineCommand({
  name: 'dump',
  summary: 'print the records in offset order (read-only)',
  positionals: [{ name: 'dir', description: 'journal directory' }],
  flags: {
    from: {
      type: 'integer',
      value: 'offset',
      description: 'start at this offset: a record boundary in [earliest, head] (default: earliest)',
    },
    limit: { type: 'integer', value: 'n', description: 'print at most n records' },
    json: {
      ...commonFlags.json,
      description: 'one JSON object per line: {"offset","length","blake3" (hex),"payload" (base64)}; with --events, {"offset","length",...the commit}',
    },
    events: {
      type: 'boolean',
      description: "show each record as an event store commit (stream, positions, events: type, id, data); needs @episteme/store",
    },
    'max-payload-bytes': commonFlags.maxPayloadBytes,
  },
  async run({ positionals: [dir], flags }, ctx) {
    // loaded before the journal is looked at: without the store, --events is refused whatever the directory
    const describe = flags.events ? await loadDescribe(ctx.importModule ?? ((s) => import(s))) : undefined;
    const segments = journalSegments(dir!);
    const maxPayloadBytes = flags['max-payload-bytes'] ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const earliest = segments[0]!.base;
    const target = flags.from ?? earliest;
    if (target < earliest) {
      throw new OffsetOutOfRangeError(target, earliest, readableHead(segments[segments.length - 1]!, maxPayloadBytes));
    }
    // the walk starts at the target's segment: a hole in the log before it
    // would go unseen, and an offset past that segment's end but below the
    // next base is in a hole, not inside a record
    const at = segmentIndexFor(segments, target);
    const after = holeAfter(segments, at);
    if (after && target >= after.end) throw new CliError(ExitCode.Problem, `offset ${target} is in a hole of the log: ${after.describe}`, WalErrorCodes.SegmentGap);
    let before: Hole | undefined;
    for (let i = at - 1; i >= 0 && !before; i--) before = holeAfter(segments, i);
    if (before && !flags.json) ctx.err(`note: the log before offset ${before.next.base} is not whole: ${before.describe}\n`);
    const out = new OutputBuffer((s) => ctx.out(s));
    if (!flags.json) out.push(describe ? `${'OFFSET'.padStart(12)}  COMMIT\n` : `${'OFFSET'.padStart(12)} ${'LENGTH'.padStart(10)}  ${'BLAKE3'.padEnd(16)}  PAYLOAD\n`);
    const format = describe ? (flags.json ? eventsJsonLine(describe) : eventsTextLine(describe)) : flags.json ? jsonLine : textLine;
    const walk = new RecordWalk(segments, earliest, target, flags.limit ?? Infinity, maxPayloadBytes, out, format);
    let note: string | undefined;
    try {
      note = await walk.run();
    } catch (err) {
      if (walk.printed > 0) await out.flush(); // the valid records read before the error are shown
      throw err;
    }
    await out.flush();
    // on stderr in --json mode too (stdout stays one record a line): an operator piping the JSON still sees where it stopped
    if (note) ctx.err(`note: ${note}\n`);
    return ExitCode.Ok;
  },
});

type LineFormat = (offset: number, length: number, buf: Uint8Array, index: number) => string;

/**
 * The walk: find the segment that holds `target` by binary search over the
 * bases, scan it from its first record (offsets are only known by walking),
 * skip records before `target`, then emit until the limit or the end of the
 * valid log. Returns a note when the log ends on something other than a
 * clean end (torn tail, damage, gap), for the human reader.
 */
class RecordWalk {
  private seeking = true;
  private notBoundary = false;
  private waiting: Promise<void> | undefined;
  private base = 0;
  /** Records handed to the output so far. */
  printed = 0;

  constructor(
    private readonly segments: SegmentFile[],
    private readonly earliest: number,
    private readonly target: number,
    private remaining: number,
    private readonly maxPayloadBytes: number,
    private readonly out: OutputBuffer,
    private readonly format: LineFormat,
  ) {}

  private readonly visit: RecordVisitor = (position, length, buf, index) => {
    const offset = this.base + position - HEADER_SIZE;
    if (this.seeking) {
      if (offset + RECORD_OVERHEAD + length <= this.target) return true;
      if (offset !== this.target) {
        this.notBoundary = true;
        return false;
      }
      this.seeking = false;
    }
    if (this.remaining <= 0) return false;
    this.remaining--;
    this.printed++;
    this.waiting = this.out.push(this.format(offset, length, buf, index));
    // Stopping the scan is how we wait: it resumes at the next record.
    return this.waiting === undefined && this.remaining > 0;
  };

  async run(): Promise<string | undefined> {
    const { segments, target } = this;
    const first = segmentIndexFor(segments, target);
    let expectedBase = segments[first]!.base;
    let note: string | undefined;
    for (let i = first; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      if (seg.base !== expectedBase) {
        note = `the log stops at offset ${expectedBase}: ${seg.name} starts at ${seg.base} (a ${seg.base > expectedBase ? 'gap' : 'overlap'}); later records were not shown`;
        break;
      }
      const outcome = await this.segment(seg, last);
      if (outcome === 'done') return undefined;
      if (typeof outcome === 'string') {
        note = outcome;
        break;
      }
      expectedBase = outcome;
    }
    if (this.waiting) await this.waiting;
    // Only a gap can leave us short of a target that binary search placed.
    if (this.seeking) throw new NotRecordBoundaryError(target);
    return note;
  }

  /** Walks one segment: 'done' at the limit, a note where the log stops, else the offset it ends at. */
  private async segment(seg: SegmentFile, last: boolean): Promise<'done' | string | number> {
    let fd: number;
    try {
      fd = nodeFileIO.open(seg.path, 'r');
    } catch (err) {
      throw ioError('opening', seg.path, err);
    }
    try {
      const header = checkSegmentHeader(nodeFileIO, fd, seg);
      if (!header.ok) {
        if (this.seeking && this.target !== seg.base) this.unreachable(seg.base, last, `${seg.name} has a bad header (${header.problem})`);
        this.seeking = false;
        return `the log stops at offset ${seg.base}: ${seg.name} has a bad header (${header.problem}); \`episteme-wal verify\` lists the damage`;
      }
      this.base = seg.base;
      // Bytes appended after this point are not shown: a dump is a snapshot.
      const size = nodeFileIO.size(fd);
      let result: ScanResult;
      for (let start = HEADER_SIZE; ; start = result.end) {
        result = scanSegment(nodeFileIO, fd, { maxPayloadBytes: this.maxPayloadBytes, start, size, visit: this.visit });
        if (this.notBoundary) throw new NotRecordBoundaryError(this.target);
        if (!result.stopped) break;
        if (!this.waiting) return 'done';
        await this.waiting;
        this.waiting = undefined;
        if (this.remaining <= 0) return 'done';
      }
      const end = seg.base + result.end - HEADER_SIZE;
      const failure = result.failure && !(last && result.freeSpace) ? result.failure : undefined;
      // a whole, valid record over the limit is not damage: say which limit would read it
      if (failure?.reason === 'length-over-limit') refuseValidRecordOverLimit(nodeFileIO, fd, seg, failure.position, size, this.maxPayloadBytes);
      if (this.seeking) {
        if (this.target < end) throw new NotRecordBoundaryError(this.target);
        if (this.target > end && (failure || last)) {
          this.unreachable(end, last, failure && `${seg.name} is damaged at file position ${failure.position} (${failure.reason})`);
        }
        if (this.target === end) this.seeking = false;
      }
      if (!failure) return end;
      const cutBytes = size - failure.position;
      return last
        ? `the log ends at offset ${end}: invalid record at ${seg.name} file position ${failure.position} (${failure.reason}); ` +
            `${cutBytes} bytes after it not shown; \`episteme-wal recover\` would quarantine them`
        : `stopped at offset ${end}: sealed segment ${seg.name} is damaged at file position ${failure.position} (${failure.reason}); ` +
            `later records not shown; \`episteme-wal verify\` lists the damage`;
    } finally {
      nodeFileIO.close(fd);
    }
  }

  /** `--from` lies past where the readable log ends. */
  private unreachable(readableEnd: number, last: boolean, damage: string | undefined): never {
    if (last || !damage) throw new OffsetOutOfRangeError(this.target, this.earliest, readableEnd);
    throw new CliError(ExitCode.Problem, `cannot reach offset ${this.target}: ${damage}; the log is readable up to offset ${readableEnd}`, WalErrorCodes.CorruptRecord);
  }
}

/** Index of the last segment whose base is <= offset (offset >= the first base). */
export function segmentIndexFor(segments: readonly { base: number }[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid]!.base <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Where the valid records of the last segment end: the head a reader sees. */
function readableHead(seg: SegmentFile, maxPayloadBytes: number): number {
  const fd = nodeFileIO.open(seg.path, 'r');
  try {
    if (!checkSegmentHeader(nodeFileIO, fd, seg).ok) return seg.base;
    return seg.base + scanSegment(nodeFileIO, fd, { maxPayloadBytes }).end - HEADER_SIZE;
  } finally {
    nodeFileIO.close(fd);
  }
}

function view(buf: Uint8Array, start: number, length: number): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + start, length);
}

// Built by hand: hex and base64 never need escaping, and JSON.stringify
// rescanning every payload was the largest cost of a JSON dump.
const jsonLine: LineFormat = (offset, length, buf, index) =>
  `{"offset":${offset},"length":${length},"blake3":"${view(buf, index + 8, 32).toString('hex')}",` +
  `"payload":"${view(buf, index + RECORD_OVERHEAD, length).toString('base64')}"}\n`;

const PREVIEW_BYTES = 48;

const textLine: LineFormat = (offset, length, buf, index) => {
  const digest = view(buf, index + 8, 32).toString('hex').slice(0, 16);
  const start = index + RECORD_OVERHEAD;
  let preview = '';
  for (let i = start; i < start + Math.min(length, PREVIEW_BYTES); i++) {
    const b = buf[i]!;
    // Printable ASCII only: control bytes would corrupt the terminal.
    preview += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  if (length > PREVIEW_BYTES) preview += '...';
  return `${String(offset).padStart(12)} ${String(length).padStart(10)}  ${digest}  ${preview}`.trimEnd() + '\n';
};
