import { Writable } from 'node:stream';
import type { CliIo } from './io.js';

/** A CliIo whose output is kept in memory: for tests, and for rendering --help into docs/CLI.md. */
export interface MemoryIo {
  io: CliIo;
  stdout(): string;
  stderr(): string;
}

export function memoryIo(options: { env?: NodeJS.ProcessEnv; tty?: boolean } = {}): MemoryIo {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]) =>
    new Writable({
      write: (chunk, _encoding, done) => {
        chunks.push(String(chunk));
        done();
      },
    });
  return {
    io: {
      stdout: sink(out),
      stderr: sink(err),
      env: options.env ?? {},
      stdoutIsTTY: options.tty ?? false,
      stderrIsTTY: options.tty ?? false,
      waitForInterrupt: () => new Promise(() => {}),
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
