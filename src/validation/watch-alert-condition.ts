import type { Clock } from '../cluster/clock.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { Pod } from '../kube/types.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
  isFailedLauncher,
} from '../launcher/launcher-pod.js';
import { type AlertConditionEvaluation, CountHistory, evaluateAlertCondition } from './alert-condition.js';
import { wallClock } from './clock.js';
import { LauncherTracker, terminatedAt } from './launcher-tracker.js';

// `watch`: the alert's condition from the API, continuously (one list, then a watch of the Failed launchers only:
// the field selector keeps Running pods off the wire) or once (one paged list, for scripts and cron).

export interface AlertConditionScope {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  threshold?: number;
  clock?: Clock;
}

export interface WatchAlertConditionOptions extends AlertConditionScope {
  api: Pick<KubeApi, 'watch'>;
  signal?: AbortSignal | undefined;
  /** Re-evaluation period without changes, so that pending turns firing on time (default 1 s). */
  tickMs?: number;
  /** Every evaluation, after each batch of changes and each tick; the caller decides what to print. */
  onEvaluation: (evaluation: AlertConditionEvaluation) => void;
}

export interface EvaluateOnceOptions extends AlertConditionScope {
  api: Pick<KubeApi, 'list'>;
  signal?: AbortSignal | undefined;
}

function selectors(scope: AlertConditionScope) {
  return {
    ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }),
    labelSelector: scope.labelSelector
      ? `${FAILED_LAUNCHER_LABEL_SELECTOR},${scope.labelSelector}`
      : FAILED_LAUNCHER_LABEL_SELECTOR,
    fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
  };
}

/** One evaluation from a paged list: what `watch --once` prints. */
export async function evaluateAlertConditionOnce(
  options: EvaluateOnceOptions,
): Promise<AlertConditionEvaluation> {
  const clock = options.clock ?? wallClock();
  const times: number[] = [];
  const pods = options.api.list<Pod>('pods', {
    ...selectors(options),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  for await (const pod of pods) {
    if (isFailedLauncher(pod)) times.push(terminatedAt(pod));
  }
  return evaluateAlertCondition({
    count: times.length,
    terminationTimes: times,
    threshold: options.threshold ?? 200,
    now: clock.now(),
  });
}

/** Evaluates until the signal aborts; rejects when the API fails (unreachable, forbidden) for good. */
export async function watchAlertCondition(options: WatchAlertConditionOptions): Promise<void> {
  const clock = options.clock ?? wallClock();
  const threshold = options.threshold ?? 200;
  const tickMs = options.tickMs ?? 1_000;
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener('abort', forward, { once: true });
  const { signal } = controller;
  const tracker = new LauncherTracker({ trackNew: false, startedAt: clock.now() });
  const history = new CountHistory();
  let crossedAt: number | undefined;
  let seenBelow = false;

  const evaluate = () => {
    const now = clock.now();
    const count = tracker.failedCount;
    history.record(now, count);
    options.onEvaluation(
      evaluateAlertCondition({
        count,
        terminationTimes: tracker.failedTerminationTimes(),
        threshold,
        now,
        crossedAt,
        history,
      }),
    );
  };

  const ticker = async () => {
    while (!signal.aborted) {
      await clock.sleep(tickMs, signal).catch(() => undefined);
      if (tracker.synced && !signal.aborted) evaluate();
    }
  };
  const ticking = ticker();
  try {
    for await (const event of options.api.watch<Pod>('pods', { ...selectors(options), signal })) {
      tracker.apply(event);
      if (!tracker.synced || event.type === 'BOOKMARK' || event.type === 'RELIST') continue;
      const holds = tracker.failedCount >= threshold;
      if (!holds) seenBelow = true;
      else if (seenBelow && crossedAt === undefined) crossedAt = clock.now();
      if (!holds) crossedAt = undefined;
      if (event.type === 'SYNCED') evaluate();
    }
  } finally {
    controller.abort();
    options.signal?.removeEventListener('abort', forward);
    await ticking;
  }
}
