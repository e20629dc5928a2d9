// Benchmark of `clean` (Mitigation 2) side by side with the runbook's cleanup and with the floor, for each size on
// fresh simulators in one run. `npm run bench` puts its section in docs/BENCHMARKS.md; on its own:
//
//   npm run bench:clean                      200, 2,000 and 20,000 Failed launchers (the full run: long)
//   npm run bench:clean -- --sizes 200       a quick check
//   options: --namespaces N (default 40), --timeout SECONDS per command (default 1800)
//
// Each method deletes, so each (size, method) gets its own simulator, laid down with the same seed: the same pods.
// - clean: `stuckfailed clean -A --yes`, archive and uid + resourceVersion preconditions on, default --qps and --max-in-flight;
// - runbook: its pipeline scoped per namespace so that it works (docs/CLEANUP.md), one namespace after another:
//   `kubectl get pods -n NS -l ... --field-selector=... -o name | xargs -r -n50 kubectl delete -n NS`. It runs at
//   kubectl's 5 requests per second, so at 20,000 pods it would take hours: it is given 25 times clean's time, and
//   killed then, which proves "at least 25 times faster" without waiting for the rest;
// - floor: one deletecollection per namespace (curl), which archives nothing and checks nothing.
// Seconds and peak RSS come from GNU time (the largest process of the command), API requests from /sim/stats,
// and what is left afterwards from a list of the Failed launchers. A method that fails or times out is recorded.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cli, type Measured, measure, type Simulator, startSimulator } from './harness.js';

const LABEL = 'kubevirt.io=virt-launcher';
const FIELD = 'status.phase=Failed';
/** The runbook's time budget, in multiples of clean's time at the same size. */
const RUNBOOK_BUDGET = 25;
/**
 * Sizes up to this one run three times, in turns, and are compared by their medians: there start-up is most of
 * clean's time, and one run on a 2-core VM varies by a fifth.
 */
const REPEATED_UP_TO = 1_000;
const TURNS = 3;

export interface CleanBenchOptions {
  sizes: number[];
  namespaces: number;
  /** The most any one command may take. */
  timeoutSeconds: number;
}

type Method = 'clean' | 'runbook' | 'floor';

interface CleanMeasured extends Measured {
  /** Failed launchers left afterwards. */
  left: number;
}

/** Failed launchers left, counted over raw HTTP (after the request count was read, so not counted in it). */
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

async function commandFor(method: Method, sim: Simulator, dir: string): Promise<string> {
  if (method === 'clean') {
    return `${cli} clean -A --yes --archive ${join(dir, 'archive')} >/dev/null`;
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

const METHOD_NAMES: Record<Method, string> = {
  clean: '`stuckfailed clean -A --yes` (archive, preconditions)',
  runbook: 'runbook per namespace: `kubectl get ... -o name \\| xargs -r -n50 kubectl delete -n NS`',
  floor: 'floor: one `deletecollection` per namespace (curl)',
};

/** The issue's targets, against this run's figures. */
function targetLines(results: Map<number, Partial<Record<Method, CleanMeasured>>>): string[] {
  const lines: string[] = [];
  for (const [size, { clean, runbook, floor }] of results) {
    if (clean === undefined) continue;
    const parts = [
      `- ${size.toLocaleString('en')} Failed launchers: clean ${clean.seconds.toFixed(1)} s, ${clean.requests} requests, ${clean.maxRssMiB} MiB peak`,
    ];
    if (runbook !== undefined) {
      const ratio = runbook.seconds / clean.seconds;
      // A runbook killed at its budget deleted only part of the pods: its requests are compared per pod deleted.
      const runbookDeleted = size - runbook.left;
      const fewer = runbook.timedOut
        ? runbookDeleted > 0 && clean.requests / size < runbook.requests / runbookDeleted
        : clean.requests < runbook.requests;
      const met = ratio >= 20 && fewer ? 'met' : 'not met';
      parts.push(
        runbook.timedOut
          ? `at least ${ratio.toFixed(1)}× faster than the runbook's pipeline, killed at ${runbook.seconds.toFixed(1)} s with ${runbook.left.toLocaleString('en')} left after ${runbook.requests} requests for ${runbookDeleted.toLocaleString('en')} pods, ${(runbook.requests / Math.max(1, runbookDeleted)).toFixed(2)} per pod against clean's ${(clean.requests / size).toFixed(2)} (target ≥ 20× with fewer requests: ${met})`
          : `${ratio.toFixed(1)}× faster than the runbook's pipeline (${runbook.seconds.toFixed(1)} s, ${runbook.requests} requests; target ≥ 20× with fewer requests: ${met})`,
      );
    }
    if (floor !== undefined) {
      const ratio = clean.seconds / floor.seconds;
      parts.push(
        `${ratio.toFixed(1)}× the deletecollection floor (${floor.seconds.toFixed(2)} s, ${floor.requests} requests; target ≤ 10×: ${ratio <= 10 ? 'met' : 'not met'})`,
      );
    }
    lines.push(`${parts.join('; ')}.`);
  }
  const peaks = [...results].map(([size, { clean }]) => ({ size, rss: clean?.maxRssMiB ?? Number.NaN }));
  if (peaks.length > 1) {
    // Flat: the largest size's peak within a fifth of the smallest's.
    const first = peaks[0]?.rss ?? Number.NaN;
    const last = peaks.at(-1)?.rss ?? Number.NaN;
    lines.push(
      `- Peak memory of clean: ${peaks.map((peak) => peak.rss).join(', ')} MiB at ${peaks.map((peak) => peak.size.toLocaleString('en')).join(', ')} (target: not growing with the count: ${last <= first * 1.2 ? 'met' : 'not met'}).`,
    );
  }
  return lines;
}

/** The run of median seconds (a run killed at its budget counts as its budget, a lower bound). */
function median(runs: CleanMeasured[]): CleanMeasured | undefined {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
}

/** Runs every size and method (small sizes three times, in turns); returns the Markdown section. */
export async function cleanSection(options: CleanBenchOptions): Promise<string[]> {
  const results = new Map<number, Partial<Record<Method, CleanMeasured>>>();
  const rows: string[] = [];
  for (const size of options.sizes) {
    const runs: Record<Method, CleanMeasured[]> = { clean: [], runbook: [], floor: [] };
    const turns = size <= REPEATED_UP_TO ? TURNS : 1;
    for (let turn = 1; turn <= turns; turn += 1) {
      for (const method of ['clean', 'runbook', 'floor'] as const) {
        const dir = mkdtempSync(join(os.tmpdir(), 'stuckfailed-bench-clean-'));
        const sim = await startSimulator(dir, [
          ...['--scenario', 'image-pull', '--failed', String(size)],
          ...['--namespaces', String(options.namespaces), '--nodes', '60', '--seed', '1'],
        ]);
        try {
          // Warm kubectl's discovery cache once, as an SRE's machine would have it.
          if (method === 'runbook') await measure(sim, 'kubectl get ns >/dev/null', dir);
          const clean = runs.clean.at(-1);
          const timeout =
            method === 'runbook' && clean !== undefined && !clean.timedOut
              ? Math.min(options.timeoutSeconds, Math.max(60, RUNBOOK_BUDGET * clean.seconds))
              : options.timeoutSeconds;
          const measured = await measure(sim, await commandFor(method, sim, dir), dir, timeout);
          const result = { ...measured, left: await failedLaunchersLeft(sim) };
          runs[method].push(result);
          const status = result.timedOut
            ? `killed at ${timeout.toFixed(0)} s`
            : result.exitCode === 0
              ? 'ok'
              : `exit ${result.exitCode}`;
          rows.push(
            `| ${size.toLocaleString('en')} | ${METHOD_NAMES[method]} | ${turns > 1 ? turn : ''} | ${result.seconds.toFixed(2)} | ${result.requests} | ${Number.isNaN(result.maxRssMiB) ? '?' : result.maxRssMiB} | ${result.left} | ${status} |`,
          );
          process.stderr.write(`clean bench ${size} ${method} (turn ${turn}): ${JSON.stringify(result)}\n`);
        } catch (error) {
          rows.push(
            `| ${size.toLocaleString('en')} | ${METHOD_NAMES[method]} | ${turns > 1 ? turn : ''} | – | – | – | – | failed: ${(error as Error).message} |`,
          );
        } finally {
          sim.process.kill('SIGTERM');
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    const medians: Partial<Record<Method, CleanMeasured>> = {};
    for (const method of ['clean', 'runbook', 'floor'] as const) {
      const middle = median(runs[method]);
      if (middle !== undefined) medians[method] = middle;
    }
    results.set(size, medians);
  }
  return [
    '## Cleanup: `clean` against the runbook and the floor',
    '',
    'Each size and method on a fresh simulator (`stuckfailed sim --scenario image-pull`,',
    `${options.namespaces} namespaces, 60 nodes, seed 1: the same pods). Seconds and peak memory (max RSS of the largest`,
    'process) from GNU time, API requests from the simulator\'s `/sim/stats`; "left" counts the Failed launchers',
    "remaining afterwards. The runbook's pipeline runs at kubectl's 5 requests per second: it is given",
    `${RUNBOOK_BUDGET} times clean's time at the same size and killed then, which bounds its speed from below without`,
    'waiting hours for it. Sizes up to',
    `${REPEATED_UP_TO.toLocaleString('en')} run ${TURNS} times, the methods in turns, and the targets compare the medians.`,
    '',
    'Targets: `clean --yes` (archive and preconditions on) at least 20 times faster than the runbook, with fewer API',
    'requests; within 10 times of the floor; peak memory that does not grow with the count.',
    '',
    ...targetLines(results),
    '',
    '| Failed launchers | method | turn | seconds | API requests | max RSS (MiB) | left | status |',
    '|---:|---|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '200,2000,20000' },
      namespaces: { type: 'string', default: '40' },
      timeout: { type: 'string', default: '1800' },
    },
  });
  const section = await cleanSection({
    sizes: values.sizes.split(',').map((size) => Number(size.trim())),
    namespaces: Number(values.namespaces),
    timeoutSeconds: Number(values.timeout),
  });
  process.stdout.write(`${section.join('\n')}\n`);
}
