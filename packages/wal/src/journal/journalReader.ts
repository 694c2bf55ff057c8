import { listSegmentFiles } from '../recovery/segmentFiles.js';
import { ChangeNotifier } from './changeNotifier.js';
import { refuseForeignDirectory } from './foreignFiles.js';
import { JournalBase } from './journalBase.js';
import { NO_KNOWN_BOUNDARIES } from './knownBoundaries.js';
import { resolveReaderOptions, type JournalReaderOptions, type ResolvedReaderOptions } from './options.js';
import { ReadOnlyView } from './readOnlyView.js';
import { SegmentManager } from './segmentManager.js';

/**
 * A reader re-lists the segments at least this often while it reads, so
 * that a segment deleted by the writer's cleanup turns into an out-of-range
 * error instead of a read from a file that is gone.
 */
const STALE_VIEW_MS = 100;

/**
 * A journal read from another process than its writer's (`Journal.openForRead`):
 * no lock, no recovery, never changes a file. It sees the head the writer
 * published (never a record a crash could take back), looks at the
 * directory again when a read misses (a new segment, a file that grew), and
 * follows the writer across processes (a change watch plus polling). It has
 * no append, sync or retention: only the writer writes.
 */
export class JournalReader extends JournalBase {
  private readonly view: ReadOnlyView;
  private refreshedAt = 0;

  private constructor(options: ResolvedReaderOptions, segments: SegmentManager) {
    super({
      dir: options.dir,
      io: options.io,
      maxPayloadBytes: options.maxPayloadBytes,
      verifyOnRead: options.verifyOnRead,
      segments,
      changes: new ChangeNotifier(options.dir, options.pollIntervalMs),
      known: NO_KNOWN_BOUNDARIES,
    });
    this.view = new ReadOnlyView(options.io, options.dir, options.maxPayloadBytes, segments, options.archiveDir);
  }

  /** See `Journal.openForRead`. */
  static async open(options: JournalReaderOptions): Promise<JournalReader> {
    const o = resolveReaderOptions(options);
    // NotAJournalError when the directory is missing; one without segments is looked at once more
    if (listSegmentFiles(o.io, o.dir).length === 0) refuseForeignDirectory(o.io, o.dir, true);
    const reader = new JournalReader(o, new SegmentManager(o.io, o.dir));
    try {
      reader.refreshView();
    } catch (err) {
      await reader.close();
      throw err;
    }
    return reader;
  }

  /** A reader runs no recovery: undefined. */
  get truncatedAt(): undefined {
    return undefined;
  }

  /** A reader cannot sync its writer's files (their durability is the writer's): resolves at once. */
  makeDurable(): Promise<void> {
    return Promise.resolve();
  }

  protected release(): Promise<void> {
    this.closeFiles();
    return Promise.resolve();
  }

  /** See ReadOnlyView. */
  protected refreshView(): boolean {
    if (this.closed) return false;
    this.refreshedAt = performance.now();
    const changed = this.view.refresh();
    this.headOffset = this.view.head;
    return changed;
  }

  protected override refreshIfStale(): void {
    if (performance.now() - this.refreshedAt > STALE_VIEW_MS) this.refreshView();
  }
}
