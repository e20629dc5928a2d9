import type { Writable } from 'node:stream';

// Progress for long work (listing 100k pods, fetching events per namespace) on stderr, so stdout stays a clean
// report to pipe or redirect. It draws only on a terminal and never with --quiet: in CI logs and in files a
// redrawn line is noise. One line, rewritten in place with a carriage return and "erase line" (ECMA-48 EL, CSI 2K);
// redraws are throttled so that a tight loop of updates does not spend its time writing to the terminal.

export interface ProgressReporter {
  /** Begins a phase, e.g. `start('listing pods')`, or `start('fetching events', 120)` when the total is known. */
  start(phase: string, total?: number): void;
  /** Work done so far in the current phase. */
  update(done: number): void;
  /** Clears the line; call once the work is over (also before printing anything else to stderr). */
  stop(): void;
}

export interface ProgressReporterOptions {
  stream: Writable;
  /** Whether `stream` is a terminal (CliIo.stderrIsTTY). */
  isTTY: boolean;
  /** --quiet */
  quiet: boolean;
  /** Milliseconds clock, injectable for tests (default Date.now). */
  now?: () => number;
  /** Least time between two redraws (default 100 ms). */
  minIntervalMs?: number;
}

const CLEAR_LINE = '\r\u001b[2K';

const SILENT: ProgressReporter = {
  start: () => undefined,
  update: () => undefined,
  stop: () => undefined,
};

export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  if (!options.isTTY || options.quiet) return SILENT;
  const { stream } = options;
  const now = options.now ?? Date.now;
  const minIntervalMs = options.minIntervalMs ?? 100;
  let phase: string | undefined;
  let total: number | undefined;
  let done = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;

  const draw = () => {
    if (phase === undefined) return;
    lastDraw = now();
    const counts =
      total === undefined
        ? `${done}`
        : `${done}/${total} (${total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100}%)`;
    stream.write(`${CLEAR_LINE}${phase}… ${counts}`);
  };

  return {
    start(nextPhase, nextTotal) {
      phase = nextPhase;
      total = nextTotal;
      done = 0;
      draw();
    },
    update(nextDone) {
      done = nextDone;
      // Always draw the last step of a known total, so the line never stops short of 100%.
      if (now() - lastDraw >= minIntervalMs || (total !== undefined && done >= total)) draw();
    },
    stop() {
      if (phase === undefined) return;
      phase = undefined;
      stream.write(CLEAR_LINE);
    },
  };
}
