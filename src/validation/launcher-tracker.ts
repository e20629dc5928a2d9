import type { WatchEvent } from '../cluster/kube-api.js';
import type { Pod, PodPhase } from '../kube/types.js';
import { isVirtLauncher, launcherVmi } from '../launcher/launcher-pod.js';

// The alert's condition kept from a watch of virt-launcher pods, with a few numbers per pod instead of the pods:
// the Failed launchers as key -> the moment they terminated (for the count and for "since when"), and, for
// validate, the launchers that appeared after the start as key -> phase and VMI. A 100k-pod cluster costs a map
// entry per Failed launcher, not 100k parsed pods (DESIGN §3, "Streaming, not loading").

export interface LauncherTrackerOptions {
  /** Keep the launchers that appear after the first list (validate: they must reach Running). */
  trackNew: boolean;
  /** Wall-clock milliseconds; when the tracker started (launchers created before it are not new). */
  startedAt: number;
  /** A launcher seen entering Failed after the first list (or found Failed by a relist that missed it). */
  onFailure?: (key: string) => void;
}

export interface NewLauncher {
  phase: PodPhase;
  /** `namespace/name` of its VMI, when the pod names one. */
  vmi: string | undefined;
}

export interface NewLauncherSummary {
  total: number;
  running: number;
  pending: number;
  failed: number;
  succeeded: number;
  /** Pending or Unknown ones, a few, for the reason text. */
  pendingExamples: string[];
  /** VMIs of Running new launchers, for the caller to check. */
  runningVmis: string[];
}

interface Maps {
  failed: Map<string, number>;
  fresh: Map<string, NewLauncher>;
}

const EXAMPLES = 3;

export function objectKey(object: { metadata: { namespace?: string; name: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/**
 * When the pod's end became final: the latest `terminated.finishedAt` of its containers (init containers included:
 * a pod that failed in init has no other). Pods the kubelet never ran (evicted, rejected at admission) carry no
 * container state; their latest condition change, then their creation, stand in. NaN when nothing says.
 */
export function terminatedAt(pod: Pod): number {
  let latest = Number.NaN;
  const consider = (text: string | undefined) => {
    const time = text === undefined ? Number.NaN : Date.parse(text);
    if (!Number.isNaN(time) && !(time <= latest)) latest = time;
  };
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  for (const status of statuses) consider(status.state?.terminated?.finishedAt);
  if (!Number.isNaN(latest)) return latest;
  for (const condition of pod.status?.conditions ?? []) consider(condition.lastTransitionTime);
  if (!Number.isNaN(latest)) return latest;
  consider(pod.metadata.creationTimestamp);
  return latest;
}

export class LauncherTracker {
  readonly #options: LauncherTrackerOptions;
  #current: Maps = { failed: new Map(), fresh: new Map() };
  /** While a relist streams in: the maps being rebuilt; the current ones stay what callers read until SYNCED. */
  #next: Maps | undefined;
  #synced = false;
  /** Launchers seen entering Failed after the first list. */
  failuresObserved = 0;

  constructor(options: LauncherTrackerOptions) {
    this.#options = options;
  }

  /** True once the first list is complete: before that the count is partial. */
  get synced(): boolean {
    return this.#synced;
  }

  get failedCount(): number {
    return this.#current.failed.size;
  }

  /** Termination times of the Failed launchers (NaN where unknown). */
  failedTerminationTimes(): IterableIterator<number> {
    return this.#current.failed.values();
  }

  apply(event: WatchEvent<Pod>): void {
    switch (event.type) {
      case 'RELIST':
        this.#next = { failed: new Map(), fresh: new Map() };
        return;
      case 'SYNCED':
        if (this.#next !== undefined) this.#current = this.#next;
        this.#next = undefined;
        this.#synced = true;
        return;
      case 'BOOKMARK':
        return;
      case 'DELETED': {
        const key = objectKey(event.object);
        this.#current.failed.delete(key);
        this.#current.fresh.delete(key);
        return;
      }
      default:
        this.#upsert(event.object, event.type === 'ADDED', this.#next !== undefined);
    }
  }

  /** `listed`: the pod comes from a (re)list, not from a change. */
  #upsert(pod: Pod, added: boolean, listed: boolean): void {
    // The server applied the label selector; the name prefix is the half of the definition it cannot check.
    if (!isVirtLauncher(pod)) return;
    const key = objectKey(pod);
    const phase = pod.status?.phase ?? 'Pending';
    const before = this.#current;
    const into = listed ? (this.#next as Maps) : before;
    const known = before.fresh.has(key) || before.failed.has(key);
    if (phase === 'Failed') {
      if (this.#synced && !before.failed.has(key)) {
        this.failuresObserved += 1;
        this.#options.onFailure?.(key);
      }
      into.failed.set(key, terminatedAt(pod));
    } else {
      into.failed.delete(key);
    }
    if (!this.#options.trackNew) return;
    // New: what the watch adds after the first list; in a later relist, what we did not hold and was created since
    // the start (the relist cannot say whether it appeared in the gap or was there all along).
    const isNew =
      before.fresh.has(key) ||
      (this.#synced && (listed ? !known && createdSince(pod, this.#options.startedAt) : added));
    if (isNew) into.fresh.set(key, { phase, vmi: vmiKey(pod) });
  }

  /** The launchers that appeared after the start, as counts; O(new launchers). */
  newLaunchers(): NewLauncherSummary {
    const summary: NewLauncherSummary = {
      total: 0,
      running: 0,
      pending: 0,
      failed: 0,
      succeeded: 0,
      pendingExamples: [],
      runningVmis: [],
    };
    for (const [key, launcher] of this.#current.fresh) {
      summary.total += 1;
      switch (launcher.phase) {
        case 'Running':
          summary.running += 1;
          if (launcher.vmi !== undefined) summary.runningVmis.push(launcher.vmi);
          break;
        case 'Failed':
          summary.failed += 1;
          break;
        case 'Succeeded':
          summary.succeeded += 1;
          break;
        default:
          summary.pending += 1;
          if (summary.pendingExamples.length < EXAMPLES) summary.pendingExamples.push(key);
      }
    }
    return summary;
  }
}

function createdSince(pod: Pod, startedAt: number): boolean {
  const created = Date.parse(pod.metadata.creationTimestamp ?? '');
  // Timestamps have second precision: a pod stamped in the start's second counts as new.
  return !Number.isNaN(created) && created >= Math.floor(startedAt / 1000) * 1000;
}

function vmiKey(pod: Pod): string | undefined {
  const vmi = launcherVmi(pod);
  return vmi === undefined ? undefined : `${vmi.namespace}/${vmi.name}`;
}
