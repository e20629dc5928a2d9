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
