// Benchmarks: stuckfailed side by side with the runbook's own commands, against one simulator, in one run.
// Results go to docs/BENCHMARKS.md. Run with `npm run bench` (it builds first); `--quick` uses smaller counts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist/bin/stuckfailed.js');
const quick = process.argv.includes('--quick');
const sizes = quick ? [2_000, 10_000] : [20_000, 100_000];

interface Measured {
  seconds: number;
  maxRssMiB: number;
  requests: number;
  exitCode: number;
}

interface Simulator {
  url: string;
  kubeconfig: string;
  process: ChildProcess;
}

async function startSimulator(dir: string, failed: number): Promise<Simulator> {
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(
    process.execPath,
    [
      cli,
      'sim',
      '--scenario',
      'image-pull',
      '--failed',
      String(failed),
      '--namespaces',
      '40',
      '--nodes',
      '60',
      '--seed',
      '1',
      '--kubeconfig-out',
      kubeconfig,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the simulator did not start within 300 s')), 300_000);
    child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
    if (!child.stdout) throw new Error('no stdout');
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (\S+)/.exec(line);
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
  const stats = (await response.json()) as { requests: number };
  return stats.requests;
}

/** Runs a shell command under GNU time, counting the API requests it made from the simulator's statistics. */
async function measure(sim: Simulator, command: string, home: string): Promise<Measured> {
  const before = await requestsServed(sim);
  const timeFile = join(home, 'time.txt');
  const exitCode = await new Promise<number>((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, 'bash', '-c', command], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, HOME: home, KUBECONFIG: sim.kubeconfig },
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
  const after = await requestsServed(sim);
  const { readFileSync } = await import('node:fs');
  const [seconds, maxRssKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ') ?? [];
  return {
    seconds: Number(seconds),
    maxRssMiB: Math.round(Number(maxRssKiB) / 1024),
    requests: after - before,
    exitCode,
  };
}

const selector = '-l kubevirt.io=virt-launcher --field-selector=status.phase=Failed';
const rows: string[] = [];
const notes: string[] = [];

for (const failed of sizes) {
  const dir = mkdtempSync(join(os.tmpdir(), 'stuckfailed-bench-'));
  const sim = await startSimulator(dir, failed);
  try {
    // Warm kubectl's discovery cache once, as an SRE's machine would have it.
    await measure(sim, 'kubectl get ns >/dev/null', dir);
    const cases: Array<[string, string]> = [
      [
        'runbook step 2: `kubectl get pods -A ... -o json` (list only)',
        `kubectl get pods -A ${selector} -o json >/dev/null`,
      ],
      [
        'runbook step 2: `kubectl get pods -A ... --no-headers | head -n 20`',
        `kubectl get pods -A ${selector} --no-headers | head -n 20 >/dev/null`,
      ],
      ['`stuckfailed diagnose -o json` (all five steps)', `node ${cli} diagnose -o json >/dev/null`],
    ];
    for (const [name, command] of cases) {
      const result = await measure(sim, command, dir);
      rows.push(
        `| ${failed.toLocaleString('en')} | ${name} | ${result.seconds.toFixed(2)} | ${result.maxRssMiB} | ${result.requests} |`,
      );
      if (result.exitCode !== 0 && !command.includes('head'))
        notes.push(`${name} at ${failed} exited ${result.exitCode}`);
      process.stderr.write(`${failed} ${name}: ${JSON.stringify(result)}\n`);
    }
  } finally {
    sim.process.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const report = [
  '# Benchmarks',
  '',
  'Produced by `npm run bench` (bench/run.ts): one simulator per size (scenario `image-pull`, 40 namespaces, 60 nodes),',
  "the runbook's own kubectl commands and stuckfailed run against it in the same run. Time and peak memory (max RSS)",
  "from GNU time; API requests from the simulator's `/sim/stats`. kubectl's discovery cache is warm.",
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| failed launchers | command | seconds | max RSS (MiB) | API requests |',
  '|---:|---|---:|---:|---:|',
  ...rows,
  '',
  ...(notes.length > 0 ? ['Notes:', ...notes.map((note) => `- ${note}`), ''] : []),
];
writeFileSync(join(root, 'docs/BENCHMARKS.md'), `${report.join('\n')}\n`);
process.stdout.write(`${report.join('\n')}\n`);
