// Benchmark of `clean` (Mitigation 2) side by side with the runbook's cleanup and with the floor, for each size on
// fresh simulators in one run. Prints a Markdown section for docs/BENCHMARKS.md (and writes it with --out FILE).
//
//   npm run bench:clean                      200, 2,000 and 20,000 Failed launchers (the full run: long)
//   npm run bench:clean -- --sizes 200       a quick check
//   options: --namespaces N (default 40), --timeout SECONDS per command (default 1800), --out FILE
//
// Each method deletes, so each (size, method) gets its own simulator, laid down with the same seed: the same pods.
// - clean: `stuckfailed clean -A --yes`, archive and uid preconditions on, default --qps and --max-in-flight;
// - runbook: its pipeline scoped per namespace so that it works (docs/CLEANUP.md), one namespace after another:
//   `kubectl get pods -n NS -l ... --field-selector=... -o name | xargs -r -n50 kubectl delete -n NS`;
// - floor: one deletecollection per namespace (curl), which archives nothing and checks nothing.
// Seconds and peak RSS come from GNU time (the largest process of the command), API requests from /sim/stats,
// and what is left afterwards from a list of the Failed launchers. A method that fails or times out is recorded.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist/bin/stuckfailed.js');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,2000,20000' },
    namespaces: { type: 'string', default: '40' },
    timeout: { type: 'string', default: '1800' },
    out: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
const namespaces = Number(values.namespaces);
const timeoutSeconds = Number(values.timeout);
const LABEL = 'kubevirt.io=virt-launcher';
const FIELD = 'status.phase=Failed';

interface Simulator {
  url: string;
  kubeconfig: string;
  process: ChildProcess;
}

interface Measured {
  seconds: number;
  maxRssMiB: number;
  requests: number;
  exitCode: number;
  timedOut: boolean;
  /** Failed launchers left afterwards. */
  left: number;
}

async function startSimulator(dir: string, failed: number): Promise<Simulator> {
  const kubeconfig = join(dir, 'kubeconfig');
  const args = [
    '--max-old-space-size=8192',
    cli,
    'sim',
    '--scenario',
    'image-pull',
    '--failed',
    String(failed),
  ];
  args.push(
    '--namespaces',
    String(namespaces),
    '--nodes',
    '60',
    '--seed',
    '1',
    '--kubeconfig-out',
    kubeconfig,
  );
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
  return { url, kubeconfig, process: child };
}

async function requestsServed(sim: Simulator): Promise<number> {
  const response = await fetch(`${sim.url}/sim/stats`);
  return ((await response.json()) as { requests: number }).requests;
}

/** Failed launchers left, counted over raw HTTP (not counted in the measured requests: read after the delta). */
async function failedLaunchersLeft(sim: Simulator): Promise<number> {
  let left = 0;
  let token = '';
  do {
    const query = `labelSelector=${encodeURIComponent(LABEL)}&fieldSelector=${encodeURIComponent(FIELD)}&limit=500`;
    const response = await fetch(`${sim.url}/api/v1/pods?${query}${token ? `&continue=${token}` : ''}`);
    const page = (await response.json()) as {
      items: Array<{ metadata: { name: string } }>;
      metadata: { continue?: string };
    };
    left += page.items.filter((pod) => pod.metadata.name.startsWith('virt-launcher-')).length;
    token = page.metadata.continue ?? '';
  } while (token !== '');
  return left;
}

async function namespacesOf(sim: Simulator): Promise<string[]> {
  const response = await fetch(`${sim.url}/api/v1/namespaces`);
  return ((await response.json()) as { items: Array<{ metadata: { name: string } }> }).items.map(
    (item) => item.metadata.name,
  );
}

/** Runs a shell command under GNU time with a timeout; API requests are counted by the simulator. */
async function measure(sim: Simulator, command: string, home: string): Promise<Measured> {
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
        env: { ...process.env, HOME: home, KUBECONFIG: sim.kubeconfig },
        detached: true,
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      // The whole process group: bash, xargs and the kubectl it runs.
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutSeconds * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 137);
    });
  });
  const requests = (await requestsServed(sim)) - before;
  let seconds = (performance.now() - started) / 1000;
  let maxRssMiB = Number.NaN;
  // Killed at the timeout, GNU time dies with its command and leaves nothing usable: the wall time measured here
  // (the timeout) stands, and the peak memory is unknown.
  if (!timedOut) {
    const [time = 'NaN', rss = 'NaN'] =
      readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ') ?? [];
    seconds = Number(time);
    maxRssMiB = Math.round(Number(rss) / 1024);
  }
  return { seconds, maxRssMiB, requests, exitCode, timedOut, left: await failedLaunchersLeft(sim) };
}

type Method = 'clean' | 'runbook' | 'floor';

async function commandFor(method: Method, sim: Simulator, dir: string): Promise<string> {
  if (method === 'clean') {
    return `node ${cli} clean -A --yes --archive ${join(dir, 'archive')} >/dev/null`;
  }
  const list = await namespacesOf(sim);
  if (method === 'runbook') {
    return list
      .map(
        (ns) =>
          `kubectl get pods -n ${ns} -l ${LABEL} --field-selector=${FIELD} -o name | xargs -r -n50 kubectl delete -n ${ns} >/dev/null`,
      )
      .join('\n');
  }
  const query = `labelSelector=${encodeURIComponent(LABEL)}&fieldSelector=${encodeURIComponent(FIELD)}`;
  return list
    .map((ns) => `curl -sf -o /dev/null -X DELETE '${sim.url}/api/v1/namespaces/${ns}/pods?${query}'`)
    .join('\n');
}

const results = new Map<number, Partial<Record<Method, Measured>>>();
const rows: string[] = [];
const METHOD_NAMES: Record<Method, string> = {
  clean: '`stuckfailed clean -A --yes` (archive, uid preconditions)',
  runbook: 'runbook per namespace: `kubectl get ... -o name \\| xargs -r -n50 kubectl delete -n NS`',
  floor: 'floor: one `deletecollection` per namespace (curl)',
};

for (const size of sizes) {
  for (const method of ['clean', 'runbook', 'floor'] as const) {
    const dir = mkdtempSync(join(os.tmpdir(), 'stuckfailed-bench-clean-'));
    const sim = await startSimulator(dir, size);
    try {
      // Warm kubectl's discovery cache once, as an SRE's machine would have it.
      if (method === 'runbook') await measure(sim, 'kubectl get ns >/dev/null', dir);
      const result = await measure(sim, await commandFor(method, sim, dir), dir);
      results.set(size, { ...results.get(size), [method]: result });
      const status = result.timedOut
        ? `timed out after ${timeoutSeconds} s`
        : result.exitCode === 0
          ? 'ok'
          : `exit ${result.exitCode}`;
      rows.push(
        `| ${size.toLocaleString('en')} | ${METHOD_NAMES[method]} | ${result.seconds.toFixed(2)} | ${result.requests} | ${Number.isNaN(result.maxRssMiB) ? '?' : result.maxRssMiB} | ${result.left} | ${status} |`,
      );
      process.stderr.write(`${size} ${method}: ${JSON.stringify(result)}\n`);
    } catch (error) {
      rows.push(
        `| ${size.toLocaleString('en')} | ${METHOD_NAMES[method]} | – | – | – | – | failed: ${(error as Error).message} |`,
      );
    } finally {
      sim.process.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The issue's targets, against this run's figures. */
function targetLines(): string[] {
  const lines: string[] = [];
  for (const [size, { clean, runbook, floor }] of results) {
    if (clean === undefined) continue;
    const parts = [
      `- ${size.toLocaleString('en')} Failed launchers: clean ${clean.seconds.toFixed(1)} s, ${clean.requests} requests, ${clean.maxRssMiB} MiB peak`,
    ];
    if (runbook !== undefined) {
      const bound = runbook.timedOut ? 'at least ' : '';
      parts.push(
        `${bound}${(runbook.seconds / clean.seconds).toFixed(1)}× faster than the runbook's pipeline (${runbook.seconds.toFixed(1)} s, ${runbook.requests} requests; target ≥ 20× with fewer requests)`,
      );
    }
    if (floor !== undefined) {
      parts.push(
        `${(clean.seconds / floor.seconds).toFixed(1)}× the deletecollection floor (${floor.seconds.toFixed(2)} s, ${floor.requests} requests; target ≤ 10×)`,
      );
    }
    lines.push(`${parts.join('; ')}.`);
  }
  return lines;
}

const report = [
  '## Cleanup: `clean` against the runbook and the floor',
  '',
  'Produced by `npm run bench:clean` (bench/clean.ts). Each size and method on a fresh simulator',
  `(\`stuckfailed sim --scenario image-pull\`, ${namespaces} namespaces, 60 nodes, seed 1) in one run. Seconds and peak memory`,
  '(max RSS of the largest process) from GNU time, API requests from the simulator\'s `/sim/stats`; "left" counts the',
  'Failed launchers remaining afterwards.',
  '',
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  ...targetLines(),
  '',
  '| Failed launchers | method | seconds | API requests | max RSS (MiB) | left | status |',
  '|---:|---|---:|---:|---:|---:|---|',
  ...rows,
  '',
].join('\n');
if (values.out !== undefined) writeFileSync(values.out, report);
process.stdout.write(report);
