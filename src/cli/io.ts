import type { Writable } from 'node:stream';
import { createColors } from 'picocolors';

/** What a command may touch of the outside world; src/bin fills it from the process, tests from buffers. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** True when stdout is a terminal: colour and tables sized for humans. */
  stdoutIsTTY: boolean;
  /** True when stderr is a terminal: progress is shown only then. */
  stderrIsTTY: boolean;
  /** Resolves on the first SIGINT or SIGTERM; long-running commands call it to stop cleanly instead of dying. */
  waitForInterrupt(): Promise<void>;
}

/** What every command receives: the outside world, and the way to report an exit code other than 0. */
export interface CommandContext {
  io: CliIo;
  setExitCode(code: number): void;
}

export type Colors = ReturnType<typeof createColors>;

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorsFor(io: Pick<CliIo, 'stdoutIsTTY' | 'env'>): Colors {
  return createColors(io.stdoutIsTTY && !io.env.NO_COLOR);
}
