// Load on `serve`'s webhook: N requests a second for S seconds on loopback, a mix of new alert groups, repeats and
// resolves, each group's notifications sent one after the other as Alertmanager does (groups overlap freely).
// Checks that nothing is lost (every group has exactly one incident holding every notification it was sent) and that
// no answer is a 5xx, and reports the latency. The server runs in its own process with a FakeMitigator (the
// diagnosis and the mitigation are not what is measured here).
//   node --import tsx bench/serve-load.ts [--rate 200] [--seconds 30]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Incident } from '../src/server/incident.js';
import { WEBHOOK_TOKEN, webhookBody } from '../test/helpers/serve-harness.js';

export interface ServeLoadOptions {
  rate: number;
  seconds: number;
  /** Seeded choices, so two runs send the same mix. */
  seed?: number;
}

export interface ServeLoadResult {
  requests: number;
  byKind: { new: number; repeat: number; resolve: number };
  statuses: Record<string, number>;
  groups: number;
  /** Problems found when checking the incidents; empty when nothing was lost. */
  problems: string[];
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  achievedRate: number;
}

const ROOT = new URL('..', import.meta.url).pathname;
const SERVER = new URL('../test/helpers/serve-load-server.ts', import.meta.url).pathname;

interface Group {
  key: string;
  /** Notifications answered 2xx: each must be recorded on the group's incident. */
  accepted: number;
  resolved: boolean;
  /** The group's last request: the next one waits for its answer, as Alertmanager sends a group's in order. */
  tail: Promise<void>;
}

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function startServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, address] = line.split(' ');
      if (word === 'listening' && address !== undefined) {
        clearTimeout(timer);
        resolve(address);
      }
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export async function runServeLoad(options: ServeLoadOptions): Promise<ServeLoadResult> {
  const next = random(options.seed ?? 1);
  const server = await startServer();
  const groups: Group[] = [];
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const byKind = { new: 0, repeat: 0, resolve: 0 };
  const pending = new Set<Promise<void>>();
  const bodies = new Map<string, { firing: string; resolved: string }>();

  async function send(group: Group, kind: keyof typeof byKind): Promise<void> {
    byKind[kind] += 1;
    const cached = bodies.get(group.key);
    if (cached === undefined) throw new Error(`no body for ${group.key}`);
    const body = kind === 'resolve' ? cached.resolved : cached.firing;
    const started = performance.now();
    try {
      const response = await fetch(`${server.url}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.ok) group.accepted += 1;
    } catch (error) {
      statuses.error = (statuses.error ?? 0) + 1;
      console.error(`request failed: ${(error as Error).message}`);
    }
  }

  function schedule(group: Group, kind: keyof typeof byKind): Promise<void> {
    group.tail = group.tail.then(() => send(group, kind));
    return group.tail;
  }

  function newGroup(): Group {
    const group: Group = {
      key: `{}/{load}:{group="${groups.length}"}`,
      accepted: 0,
      resolved: false,
      tail: Promise.resolve(),
    };
    bodies.set(group.key, {
      firing: JSON.stringify(webhookBody(group.key, 'firing')),
      resolved: JSON.stringify(webhookBody(group.key, 'resolved')),
    });
    groups.push(group);
    return group;
  }

  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const start = performance.now();
  let active: Group[] = [];
  try {
    for (let index = 0; index < total; index += 1) {
      const due = start + index * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      // One request in five opens a group, three repeat a firing group, one resolves a group.
      const draw = next();
      const picked = active.length > 0 && draw >= 0.2 ? Math.floor(next() * active.length) : -1;
      const group = picked >= 0 ? active[picked] : undefined;
      let task: Promise<void>;
      if (group === undefined) {
        const opened = newGroup();
        active.push(opened);
        task = schedule(opened, 'new');
      } else if (draw < 0.8) {
        task = schedule(group, 'repeat');
      } else {
        group.resolved = true;
        active = active.filter((candidate) => candidate !== group);
        task = schedule(group, 'resolve');
      }
      pending.add(task);
      void task.finally(() => pending.delete(task));
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - start) / 1000;

    // The background work (diagnosis, validation) settles; then every group is checked.
    const problems: string[] = [];
    let incidents: Incident[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await fetch(`${server.url}/api/v1/incidents`);
      incidents = ((await response.json()) as { items: Incident[] }).items;
      const settled = incidents.every(
        (incident) =>
          incident.diagnosis !== undefined &&
          (incident.alert.state === 'firing' || incident.status === 'closed'),
      );
      if (settled || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const byGroup = new Map<string, Incident[]>();
    for (const incident of incidents) {
      byGroup.set(incident.alert.groupKey, [...(byGroup.get(incident.alert.groupKey) ?? []), incident]);
    }
    for (const group of groups) {
      const found = byGroup.get(group.key) ?? [];
      if (found.length !== 1) {
        problems.push(`${group.key}: ${found.length} incidents`);
        continue;
      }
      const [incident] = found as [Incident];
      if (incident.notifications.length !== group.accepted) {
        problems.push(
          `${group.key}: ${incident.notifications.length} notifications recorded, ${group.accepted} accepted`,
        );
      }
      if (group.resolved && incident.status !== 'closed')
        problems.push(`${group.key}: resolved but ${incident.status}`);
    }
    if (byGroup.size !== groups.length) problems.push(`${byGroup.size} groups stored, ${groups.length} sent`);
    const fiveXx = Object.entries(statuses).filter(
      ([status]) => status === 'error' || status.startsWith('5'),
    );
    for (const [status, count] of fiveXx) problems.push(`${count} answers ${status}`);

    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      requests: total,
      byKind,
      statuses,
      groups: groups.length,
      problems,
      latencyMs: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? 0,
      },
      achievedRate: total / elapsed,
    };
  } finally {
    await Promise.allSettled([...pending]);
    await server.stop();
  }
}

/** The section of docs/BENCHMARKS.md that bench/run.ts writes. */
export async function serveLoadSection(options: ServeLoadOptions): Promise<string[]> {
  const result = await runServeLoad(options);
  const ms = (value: number) => value.toFixed(1);
  return [
    '## serve under webhook load',
    '',
    `${options.rate} webhook requests a second for ${options.seconds} s on loopback (bench/serve-load.ts): new alert groups,`,
    "repeats and resolves, each group's notifications in order as Alertmanager sends them; serve in its own process,",
    'every notification fsynced before its answer, diagnosis and mitigation faked.',
    '',
    '| requests | new groups | repeats | resolves | achieved /s | 5xx | problems | p50 ms | p90 ms | p99 ms | max ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${result.requests} | ${result.byKind.new} | ${result.byKind.repeat} | ${result.byKind.resolve} | ` +
      `${result.achievedRate.toFixed(1)} | ${Object.entries(result.statuses)
        .filter(([status]) => status === 'error' || status.startsWith('5'))
        .reduce(
          (sum, [, count]) => sum + count,
          0,
        )} | ${result.problems.length} | ${ms(result.latencyMs.p50)} | ` +
      `${ms(result.latencyMs.p90)} | ${ms(result.latencyMs.p99)} | ${ms(result.latencyMs.max)} |`,
    '',
  ];
}

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} expects a positive number`);
  return value;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rate = flag('--rate', 200);
  const seconds = flag('--seconds', 30);
  console.log(`serve webhook load: ${rate} requests/s for ${seconds} s on loopback`);
  const result = await runServeLoad({ rate, seconds });
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log(
    `${result.requests} requests (${result.byKind.new} new groups, ${result.byKind.repeat} repeats, ` +
      `${result.byKind.resolve} resolves) at ${result.achievedRate.toFixed(1)}/s; statuses ${JSON.stringify(result.statuses)}`,
  );
  console.log(
    `latency p50 ${ms(result.latencyMs.p50)}, p90 ${ms(result.latencyMs.p90)}, p99 ${ms(result.latencyMs.p99)}, max ${ms(result.latencyMs.max)}`,
  );
  console.log(
    result.problems.length === 0
      ? `nothing lost: ${result.groups} groups, each exactly one incident with every notification`
      : `PROBLEMS (${result.problems.length}):\n  ${result.problems.slice(0, 20).join('\n  ')}`,
  );
  process.exitCode = result.problems.length === 0 ? 0 : 1;
}
