import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ProcessResult, runProcess } from './run-process.js';

/** /usr/bin/kubectl dispatches on the server's /version minor; the simulator pins 1.32 (apiserver.md §0.1). */
export const KUBECTL = process.env.STUCKFAILED_TEST_KUBECTL ?? '/usr/bin/kubectl';

export interface RunKubectlOptions {
  kubeconfig: string;
  /** HOME for this call: kubectl caches discovery under $HOME/.kube/cache. Default: a new empty folder. */
  home?: string;
  timeoutMs?: number;
  input?: string;
}

/** A fresh HOME folder, so kubectl starts with a cold discovery cache. */
export function makeHome(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'stuckfailed-kubectl-home-'));
}

/** Runs the real kubectl with its own HOME and a bounded request timeout. */
export async function runKubectl(args: string[], options: RunKubectlOptions): Promise<ProcessResult> {
  const home = options.home ?? (await makeHome());
  return runProcess(KUBECTL, ['--request-timeout=20s', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: options.kubeconfig },
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

/** Runs a shell pipeline (the runbook's own `kubectl ... | xargs kubectl ...`) with kubectl's environment. */
export async function runShell(script: string, options: RunKubectlOptions): Promise<ProcessResult> {
  const home = options.home ?? (await makeHome());
  return runProcess('bash', ['-o', 'pipefail', '-c', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: options.kubeconfig },
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}
