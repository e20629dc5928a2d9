import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type ProcessResult, runProcess } from './run-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

/** Runs `stuckfailed ARGS` from source (node --import tsx src/bin/stuckfailed.ts) in the repository root. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', 'src/bin/stuckfailed.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern` (rejects after timeoutMs or if the process exits). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `stuckfailed ARGS` (sim, serve, watch); always stop() it in a finally/after hook. */
export function spawnCli(args: string[], options: Pick<RunCliOptions, 'env'> = {}): RunningCli {
  return spawnScript('src/bin/stuckfailed.ts', args, options);
}

/** Starts a long-running TypeScript entry point of the repository (a test's own process) as spawnCli does. */
export function spawnScript(
  entry: string,
  args: string[],
  options: Pick<RunCliOptions, 'env'> = {},
): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    out += `${line}\n`;
    lines.push(line);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const match = pattern.exec(line);
            if (match) {
              done();
              resolve(match);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${err}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`exited before printing ${pattern}; stderr: ${err}`));
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
