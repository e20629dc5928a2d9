// What every benchmark here shares: a simulator in its own process, and a shell command measured under GNU time
// (wall seconds, peak RSS of its largest process) with the API requests it cost counted by the simulator.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const root = new URL('..', import.meta.url).pathname;
/** The CLI as installed (npm's bin link, the image's /usr/local/bin/stuckfailed): run by its first line, with its flags. */
export const cli = join(root, 'dist/bin/stuckfailed.js');

/**
 * The environment of a measured command, as on an operator's workstation. This machine sets NODE_EXTRA_CA_CERTS
 * to the whole system bundle, which Node parses at every start (about 90 ms here, `nodeStartSeconds` shows it)
 * and which kubectl ignores; a workstation does not have it, so the measured commands run without it.
 */
export function measuredEnv(home: string, kubeconfig: string): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _extraCaCerts, ...env } = process.env;
  return { ...env, HOME: home, KUBECONFIG: kubeconfig };
}

/** Median seconds of `node -e 0` with this machine's environment and with measuredEnv's: what the note above costs. */
export function nodeStartSeconds(): { asIs: number; measured: number } {
  const median = (env: NodeJS.ProcessEnv) => {
    const runs = Array.from({ length: 5 }, () => {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '0'], { env });
      return (performance.now() - started) / 1000;
    }).sort((a, b) => a - b);
    return runs[2] ?? Number.NaN;
  };
  return { asIs: median(process.env), measured: median(measuredEnv('/tmp', '')) };
}

export interface Simulator {
  url: string;
  kubeconfig: string;
  startSeconds: number;
  process: ChildProcess;
}

export interface Measured {
  seconds: number;
  /** NaN when the command was killed at its timeout (GNU time dies with it). */
  maxRssMiB: number;
  requests: number;
  exitCode: number;
  timedOut: boolean;
}

/** `stuckfailed sim` with these arguments (after `sim`), its kubeconfig written into `dir`. */
export async function startSimulator(dir: string, simArgs: string[]): Promise<Simulator> {
  const kubeconfig = join(dir, 'kubeconfig');
  const started = performance.now();
  // The simulator holds every object of a 100k-pod cluster by design: give it the heap for that.
  const args = ['--max-old-space-size=8192', cli, 'sim', ...simArgs, '--kubeconfig-out', kubeconfig];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the simulator did not start within 10 minutes')),
      600_000,
    );
    child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /^listening on (\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { url, kubeconfig, startSeconds: (performance.now() - started) / 1000, process: child };
}

export async function requestsServed(sim: Simulator): Promise<number> {
  const response = await fetch(`${sim.url}/sim/stats`);
  return ((await response.json()) as { requests: number }).requests;
}

/**
 * Runs a shell command under GNU time, in `home` (its HOME and working folder), against the simulator. A command
 * still running at `timeoutSeconds` is killed with everything it started, and its time is the timeout: a lower
 * bound, marked `timedOut`.
 */
export async function measure(
  sim: Simulator,
  command: string,
  home: string,
  timeoutSeconds = Number.POSITIVE_INFINITY,
): Promise<Measured> {
  const before = await requestsServed(sim);
  const timeFile = join(home, 'time.txt');
  rmSync(timeFile, { force: true });
  const started = performance.now();
  let timedOut = false;
  const exitCode = await new Promise<number>((resolve) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', '%e %M', '-o', timeFile, 'bash', '-o', 'pipefail', '-c', command],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        cwd: home,
        env: measuredEnv(home, sim.kubeconfig),
        detached: true,
      },
    );
    const timer = Number.isFinite(timeoutSeconds)
      ? setTimeout(() => {
          timedOut = true;
          // The whole process group: bash, xargs and the kubectl it runs.
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        }, timeoutSeconds * 1000)
      : undefined;
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 137);
    });
  });
  const requests = (await requestsServed(sim)) - before;
  if (timedOut) {
    return {
      seconds: (performance.now() - started) / 1000,
      maxRssMiB: Number.NaN,
      requests,
      exitCode,
      timedOut,
    };
  }
  const [seconds = 'NaN', maxRssKiB = 'NaN'] =
    readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ') ?? [];
  return {
    seconds: Number(seconds),
    maxRssMiB: Math.round(Number(maxRssKiB) / 1024),
    requests,
    exitCode,
    timedOut,
  };
}
