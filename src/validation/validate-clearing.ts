import type { Clock } from '../cluster/clock.js';
import type { KubeApi, WatchEvent } from '../cluster/kube-api.js';
import { formatDuration } from '../duration.js';
import { StuckfailedError } from '../errors.js';
import type { Pod, VirtualMachineInstance } from '../kube/types.js';
import { FAILED_LAUNCHER_LABEL_SELECTOR } from '../launcher/launcher-pod.js';
import type { PrometheusClient } from '../prometheus/client.js';
import { type QuerySource, queryByNamespace, queryFailedLauncherCount } from '../prometheus/queries.js';
import { ClearingCondition, type ClearingStatus, type VmiCheck } from './clearing-condition.js';
import { wallClock } from './clock.js';
import { LauncherTracker, type NewLauncherSummary } from './launcher-tracker.js';
import { VmiPhases } from './vmi-phases.js';

// validate (DESIGN §4; the runbook's Mitigation 4) as a function the CLI and the service share: it watches the
// virt-launcher pods and the VMIs in scope (list once, then changes; never a polling loop against the API server)
// and answers whether the alert's condition cleared and stayed clear for the window, within the timeout.

/** The alert's `for`: a count that stays below the threshold this long would let the alert resolve. */
export const DEFAULT_WINDOW_MS = 10 * 60_000;
/** Prometheus has no watch: the count is read this often when it is the source. */
export const DEFAULT_PROMETHEUS_INTERVAL_MS = 15_000;

export type ValidationApi = Pick<KubeApi, 'watch'>;

export interface ValidateClearingOptions {
  api: ValidationApi;
  /** Undefined: every namespace (the alert is cluster-wide). */
  namespace?: string | undefined;
  /** Narrows the launchers (pods) further, as -l does. */
  labelSelector?: string | undefined;
  threshold?: number;
  windowMs?: number;
  /** Give up after this long (default: three windows). Must be at least the window. */
  timeoutMs?: number;
  /** Count from this Prometheus (recording rule, else the raw expression) instead of the API. */
  prometheus?: PrometheusClient | undefined;
  prometheusIntervalMs?: number;
  /** Wall clock (epoch ms) and sleep; injectable for tests. */
  clock?: Clock;
  /** Aborting ends the wait early with outcome "aborted". */
  signal?: AbortSignal | undefined;
  /** How often the condition is re-evaluated and progress reported (default 1 s). */
  tickMs?: number;
  onProgress?: (status: ValidationProgress) => void;
  onWarning?: (message: string) => void;
}

export type CountSource = 'api' | `prometheus-${QuerySource}`;

export interface ValidationProgress extends ClearingStatus {
  /** Time left before the timeout. */
  remainingMs: number;
  countSource: CountSource;
}

export interface ValidationVerdict {
  cleared: boolean;
  /** cleared; timeout: the condition did not clear (and stay clear) in time; aborted: the signal fired first. */
  outcome: 'cleared' | 'timeout' | 'aborted';
  /** One sentence: what held, or what did not. */
  reason: string;
  /** What did not hold at the end, each in words (empty when cleared). */
  notMet: string[];
  countSource: CountSource;
  /** The count from countSource at the end (undefined when none was read). */
  count: number | undefined;
  /** The count from the API watch (the same as count when the source is the API). */
  apiCount: number | undefined;
  threshold: number;
  windowMs: number;
  timeoutMs: number;
  /** How long the condition had held at the end. */
  clearForMs: number;
  startedAt: string;
  finishedAt: string;
  newLaunchers: ClearingStatus['newLaunchers'];
  vmisNotRunning: number;
  /** Launchers seen going Failed after the start (each restarted the window). */
  launcherFailures: number;
  scope: { namespace: string | undefined; labelSelector: string | undefined };
  /** The Prometheus queried, when it was the source. */
  prometheusUrl?: string;
}

const EXAMPLES = 3;

export async function validateClearing(options: ValidateClearingOptions): Promise<ValidationVerdict> {
  const clock = options.clock ?? wallClock();
  const threshold = options.threshold ?? 200;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const timeoutMs = options.timeoutMs ?? 3 * windowMs;
  if (timeoutMs < windowMs) {
    throw new StuckfailedError(
      'USAGE',
      `the timeout (${formatDuration(timeoutMs)}) is shorter than the window (${formatDuration(windowMs)}), so validate could never succeed: give a --timeout of at least the window`,
    );
  }
  const tickMs = options.tickMs ?? 1_000;
  const warn = options.onWarning ?? (() => undefined);
  const startedAt = clock.now();
  const deadline = startedAt + timeoutMs;
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener('abort', forward, { once: true });
  const { signal } = controller;

  const condition = new ClearingCondition({ threshold, windowMs });
  const tracker = new LauncherTracker({
    trackNew: true,
    startedAt,
    onFailure: () => condition.observeFailure(clock.now()),
  });
  const vmis = new VmiPhases();
  const { prometheus } = options;
  let countSource: CountSource = 'api';
  let prometheusCounted = false;

  const labelSelector = options.labelSelector
    ? `${FAILED_LAUNCHER_LABEL_SELECTOR},${options.labelSelector}`
    : FAILED_LAUNCHER_LABEL_SELECTOR;
  const scope = options.namespace === undefined ? {} : { namespace: options.namespace };

  const watchPods = async () => {
    for await (const event of options.api.watch<Pod>('pods', { ...scope, labelSelector, signal })) {
      tracker.apply(event);
      if (
        prometheus === undefined &&
        tracker.synced &&
        event.type !== 'BOOKMARK' &&
        event.type !== 'RELIST'
      ) {
        condition.observeCount(tracker.failedCount, clock.now());
      }
    }
  };
  const watchVmis = async () => {
    const events = options.api.watch<VirtualMachineInstance>('virtualmachineinstances', { ...scope, signal });
    for await (const event of events as AsyncIterable<WatchEvent<VirtualMachineInstance>>) vmis.apply(event);
  };
  const pollPrometheus = async (client: PrometheusClient) => {
    if (options.labelSelector)
      warn('the Prometheus count covers every launcher in scope: -l narrows only the API side');
    while (!signal.aborted) {
      try {
        const result =
          options.namespace === undefined
            ? await queryFailedLauncherCount(client)
            : await namespaceCount(client, options.namespace);
        countSource = `prometheus-${result.source}`;
        prometheusCounted = true;
        condition.observeCount(result.count, clock.now());
      } catch (error) {
        // Without a first answer there is nothing to validate against; later, one missed scrape is not fatal.
        if (!prometheusCounted || signal.aborted) throw error;
        warn(`Prometheus did not answer (${(error as Error).message}); keeping the last count`);
      }
      await clock
        .sleep(options.prometheusIntervalMs ?? DEFAULT_PROMETHEUS_INTERVAL_MS, signal)
        .catch(() => undefined);
    }
  };

  // The first failure of any source ends the wait; aborting our controller ends the others.
  let failure: { error: unknown } | undefined;
  let wake: () => void = () => undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    wake();
  };
  const tasks = [
    watchPods(),
    watchVmis(),
    ...(prometheus === undefined ? [] : [pollPrometheus(prometheus)]),
  ].map((task) => task.catch(fail));

  const status = (): ValidationProgress => {
    const now = clock.now();
    const launchers = tracker.newLaunchers();
    const synced = tracker.synced && vmis.synced;
    const evaluated = condition.evaluate(now, launchers, checkVmis(launchers, vmis));
    if (!synced) evaluated.waitingFor = ['the first list of launchers and VMIs'];
    return {
      ...evaluated,
      cleared: evaluated.cleared && synced,
      remainingMs: Math.max(0, deadline - now),
      countSource,
    };
  };

  let last = status();
  let outcome: ValidationVerdict['outcome'] = 'timeout';
  try {
    for (; ; last = status()) {
      options.onProgress?.(last);
      if (failure !== undefined) throw failure.error;
      if (last.cleared) {
        outcome = 'cleared';
        break;
      }
      if (options.signal?.aborted) {
        outcome = 'aborted';
        break;
      }
      const now = clock.now();
      if (now >= deadline) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        const sleeping = new AbortController();
        const stop = () => sleeping.abort();
        signal.addEventListener('abort', stop, { once: true });
        // Wake at the window's end too, so that a clear window is reported when it ends, not up to a tick later.
        const windowLeft =
          last.clearForMs > 0 && last.clearForMs < windowMs ? windowMs - last.clearForMs : tickMs;
        clock
          .sleep(Math.max(0, Math.min(tickMs, deadline - now, windowLeft)), sleeping.signal)
          .catch(() => undefined)
          .finally(() => {
            signal.removeEventListener('abort', stop);
            resolve();
          });
      });
    }
  } finally {
    controller.abort();
    options.signal?.removeEventListener('abort', forward);
    await Promise.all(tasks);
  }

  const finishedAt = clock.now();
  return {
    cleared: outcome === 'cleared',
    outcome,
    reason: verdictReason(outcome, last, windowMs, timeoutMs),
    notMet: outcome === 'cleared' ? [] : last.waitingFor,
    countSource: last.countSource,
    count: last.count,
    apiCount: tracker.synced ? tracker.failedCount : undefined,
    threshold,
    windowMs,
    timeoutMs,
    clearForMs: last.clearForMs,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    newLaunchers: last.newLaunchers,
    vmisNotRunning: last.vmisNotRunning,
    launcherFailures: condition.failures,
    scope: { namespace: options.namespace, labelSelector: options.labelSelector },
    ...(prometheus === undefined ? {} : { prometheusUrl: prometheus.url }),
  };
}

async function namespaceCount(
  client: PrometheusClient,
  namespace: string,
): Promise<{ count: number; source: QuerySource }> {
  // The by-namespace rule yields no series for a namespace without Failed launchers: that is a count of 0.
  const breakdown = await queryByNamespace(client);
  return {
    count: breakdown.items.find((item) => item.key === namespace)?.count ?? 0,
    source: breakdown.source,
  };
}

function checkVmis(launchers: NewLauncherSummary, vmis: VmiPhases): VmiCheck {
  let notRunning = 0;
  const examples: string[] = [];
  for (const key of new Set(launchers.runningVmis)) {
    const phase = vmis.phase(key);
    if (phase === 'Running') continue;
    notRunning += 1;
    if (examples.length < EXAMPLES) examples.push(`${key} (${phase ?? 'missing'})`);
  }
  return { notRunning, examples };
}

function verdictReason(
  outcome: ValidationVerdict['outcome'],
  status: ValidationProgress,
  windowMs: number,
  timeoutMs: number,
): string {
  const source = status.countSource === 'api' ? 'the API' : `Prometheus (${status.countSource.slice(11)})`;
  if (outcome === 'cleared') {
    const { total, running, succeeded } = status.newLaunchers;
    const fresh =
      total === 0
        ? 'no launcher was created meanwhile'
        : `${running + succeeded} of ${total} launchers created since the start reached Running, on Running VMIs`;
    return `cleared: the Failed launcher count (${status.count}, from ${source}) stayed below ${status.threshold} for ${formatDuration(windowMs)} with no launcher going Failed; ${fresh}`;
  }
  const when = outcome === 'timeout' ? `after ${formatDuration(timeoutMs)}` : 'when interrupted';
  return `not cleared ${when}: still waiting for ${status.waitingFor.join('; ')}`;
}
