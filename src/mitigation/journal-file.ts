import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StuckfailedError } from '../errors.js';
import { JOURNAL_OUTCOMES, type JournalEntry, type JournalSink, targetKey } from './plan.js';

// The journal of a writing command as a file: JSON lines, append-only, one per action and its outcome (DESIGN §4).
// It is what makes a run resumable: reopened, it tells the next run which targets are settled already. A line is on
// disk (fdatasync) before append() resolves, so an action that the caller saw journaled survives a crash.

export interface JournalFile {
  sink: JournalSink;
  /** targetKey()s of entries an earlier run settled for good: done, gone, skipped. */
  settled: Set<string>;
  /** Lines read back from an earlier run (entries of any outcome). */
  previousEntries: number;
  /** Waits for pending appends, then closes the file. */
  close(): Promise<void>;
}

/** Outcomes that need no further write: conflict and failed are tried again by a re-run. */
const SETTLED_OUTCOMES = new Set<string>(['done', 'gone', 'skipped']);
const OUTCOMES = new Set<string>(JOURNAL_OUTCOMES);

/**
 * Opens (or creates) a journal for appending, reading back what an earlier run left in it. A crash mid-write can
 * leave the last line cut short: it is cut off (its action is not settled, so the re-run does it again, and a
 * delete done twice is a 404, counted as gone). Any other line that is
 * not an entry means the file is not a journal: an INPUT error, so that we never append to the wrong file.
 *
 * Appends are group-committed: entries that arrive while a write is on its way go out together in the next write
 * and share one fdatasync, so thousands of parallel deletes do not queue behind thousands of disk flushes, and
 * still no append resolves before its line is durable.
 */
export async function openJournalFile(path: string): Promise<JournalFile> {
  let existing = '';
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StuckfailedError('INPUT', `cannot read the journal ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const settled = new Set<string>();
  const lines = existing.split('\n');
  const complete = existing.endsWith('\n') || existing === '';
  let previousEntries = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const last = index === lines.length - 1;
    const entry = parseEntry(line);
    if (entry === undefined) {
      if (last && !complete) return; // cut short by a crash
      throw new StuckfailedError(
        'INPUT',
        `${path} is not a stuckfailed journal (line ${index + 1} is not a journal entry); give --journal a new file or an earlier run's journal`,
      );
    }
    previousEntries += 1;
    if (SETTLED_OUTCOMES.has(entry.outcome)) settled.add(targetKey(entry.step, entry));
  });

  await mkdir(dirname(path), { recursive: true });
  // A cut-short last line is cut off, so that the next entry starts on its own line and the file stays readable.
  if (!complete) await truncate(path, Buffer.byteLength(existing.slice(0, existing.lastIndexOf('\n') + 1)));
  const handle = await open(path, 'a');
  let pending: string[] = [];
  let waiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];
  let writing: Promise<void> | undefined;

  const flush = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch = pending.join('');
      const batchWaiters = waiters;
      pending = [];
      waiters = [];
      try {
        await handle.write(batch);
        await handle.datasync();
        for (const waiter of batchWaiters) waiter.resolve();
      } catch (error) {
        const failure = new StuckfailedError(
          'INPUT',
          `cannot write the journal ${path}: ${(error as Error).message}`,
          { cause: error },
        );
        for (const waiter of batchWaiters) waiter.reject(failure);
      }
    }
    writing = undefined;
  };

  const sink: JournalSink = {
    append(entry) {
      return new Promise<void>((resolve, reject) => {
        pending.push(`${JSON.stringify(entry)}\n`);
        waiters.push({ resolve, reject });
        writing ??= flush();
      });
    },
  };

  return {
    sink,
    settled,
    previousEntries,
    async close() {
      if (pending.length > 0) writing ??= flush();
      await writing;
      await handle.close();
    },
  };
}

function parseEntry(line: string): JournalEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Partial<JournalEntry>;
  const strings = [entry.step, entry.kind, entry.namespace, entry.name, entry.uid];
  if (strings.some((field) => typeof field !== 'string')) return undefined;
  if (typeof entry.outcome !== 'string' || !OUTCOMES.has(entry.outcome)) return undefined;
  return entry as JournalEntry;
}
