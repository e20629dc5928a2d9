import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeApi } from '../cluster/kube-api.js';
import type { Event, Pod } from '../kube/types.js';
import { isFailedLauncher, launcherEndedAt, launcherVmiKey } from '../launcher/launcher-pod.js';
import { forEachTarget, type TargetResult } from './for-each-target.js';
import { type PlanStep, type PlanTarget, type StepExecutor, targetKey } from './plan.js';

// Mitigation 2 of the runbook: delete the Failed virt-launcher pods, which nothing else removes before the pod
// garbage collector's 12,500 terminated pods. Planning is a pure selection over the pods as they stream in; the
// executor archives each pod with its events, then deletes it with a uid precondition, so that what is deleted is
// exactly what was planned and nothing is lost that the root cause analysis could still need.

export const CLEAN_STEP_ID = 'clean';

export interface CleanPlanOptions {
  /** Keep the newest K Failed launchers of each VMI as evidence (0: keep none). */
  keepPerVmi: number;
  /** Only pods that ended at least this long ago. */
  olderThanSeconds?: number | undefined;
  now: Date;
}

export interface CleanSelection {
  step: PlanStep;
  /** Failed virt-launcher pods seen (before keeping and the age filter). */
  failedLaunchers: number;
  /** Pods the server's selectors let through that are not Failed virt-launchers (checked on each object). */
  notLaunchers: number;
  /** Kept as the newest of their VMI (--keep-per-vmi). */
  kept: number;
  /** VMIs that kept at least one launcher. */
  keptVmis: number;
  /** Left because they ended less than --older-than ago (or when is unknown). */
  tooRecent: number;
}

interface Candidate {
  target: PlanTarget;
  endedAt: number | undefined;
  vmi: string | undefined;
}

/**
 * Chooses the pods to delete: exactly the Failed virt-launcher pods (label, name and phase, checked on each pod
 * whatever the server's selectors did), minus the newest `keepPerVmi` of each VMI, minus those that ended less
 * than `olderThanSeconds` ago. Holds a few strings per Failed launcher, not the pods.
 */
export async function planCleanStep(
  pods: AsyncIterable<Pod>,
  options: CleanPlanOptions,
): Promise<CleanSelection> {
  const candidates: Candidate[] = [];
  let notLaunchers = 0;
  for await (const pod of pods) {
    if (!isFailedLauncher(pod) || !pod.metadata.uid) {
      notLaunchers += 1;
      continue;
    }
    candidates.push({
      target: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
      endedAt: launcherEndedAt(pod),
      vmi: launcherVmiKey(pod),
    });
  }
  const keptSet = new Set<Candidate>();
  let keptVmis = 0;
  if (options.keepPerVmi > 0) {
    const byVmi = new Map<string, Candidate[]>();
    for (const candidate of candidates) {
      // A launcher with no VMI to name cannot be "the newest of its VMI": it is not kept.
      if (candidate.vmi === undefined) continue;
      const group = byVmi.get(candidate.vmi);
      if (group) group.push(candidate);
      else byVmi.set(candidate.vmi, [candidate]);
    }
    for (const group of byVmi.values()) {
      group.sort(
        (a, b) =>
          (b.endedAt ?? Number.NEGATIVE_INFINITY) - (a.endedAt ?? Number.NEGATIVE_INFINITY) ||
          a.target.name.localeCompare(b.target.name),
      );
      for (const candidate of group.slice(0, options.keepPerVmi)) keptSet.add(candidate);
      keptVmis += 1;
    }
  }
  const cutoff =
    options.olderThanSeconds === undefined
      ? undefined
      : options.now.getTime() - options.olderThanSeconds * 1000;
  let tooRecent = 0;
  const targets: PlanTarget[] = [];
  for (const candidate of candidates) {
    if (keptSet.has(candidate)) continue;
    if (cutoff !== undefined && (candidate.endedAt === undefined || candidate.endedAt > cutoff)) {
      tooRecent += 1;
      continue;
    }
    targets.push(candidate.target);
  }
  const caps: PlanStep['caps'] = { keepPerVmi: options.keepPerVmi };
  if (options.olderThanSeconds !== undefined) caps.olderThanSeconds = options.olderThanSeconds;
  return {
    step: {
      id: CLEAN_STEP_ID,
      action: 'clean',
      reason: {
        cause: 'operator',
        summary:
          'Failed virt-launcher pods stay until the pod garbage collector starts at 12,500 terminated pods; deleting them clears the alert once the cause is fixed (runbook, Mitigation 2)',
      },
      targets,
      count: targets.length,
      caps,
    },
    failedLaunchers: candidates.length,
    notLaunchers,
    kept: keptSet.size,
    keptVmis,
    tooRecent,
  };
}

export interface CleanExecutorOptions {
  /** Where each pod goes before its DELETE: `<archiveDir>/<namespace>/<pod>.yaml`; undefined: no archive. */
  archiveDir: string | undefined;
}

/** What one namespace's targets need: their pods as they are now, and their events. */
interface NamespaceState {
  pods: Map<string, Pod>;
  events: Map<string, Event[]>;
}

/**
 * Deletes the planned pods. Per namespace it reads the pods once (to archive them as they are now, and to see
 * which changed since the plan) and, when archiving, the pods' events once (one list, not one per pod); the next
 * namespace's reads start early, so the deletes never wait on them for long. Then for each pod, in parallel under
 * the API client's caps: archive (written and fsynced), then DELETE with the planned uid as precondition.
 */
export function createCleanExecutor(options: CleanExecutorOptions): StepExecutor {
  return async (step, context) => {
    const archiveDir = context.dryRun === 'server' ? undefined : options.archiveDir;
    const namespaces: string[] = [];
    const remaining = new Map<string, number>();
    const wanted = new Map<string, Set<string>>();
    for (const target of step.targets) {
      if (context.settled.has(targetKey(step.id, target))) continue;
      if (!remaining.has(target.namespace)) {
        namespaces.push(target.namespace);
        wanted.set(target.namespace, new Set());
      }
      remaining.set(target.namespace, (remaining.get(target.namespace) ?? 0) + 1);
      wanted.get(target.namespace)?.add(target.name);
    }
    const states = new Map<string, Promise<NamespaceState>>();
    const finished = new Set<string>();
    const reads = new AbortController();
    const folders = new Map<string, Promise<unknown>>();
    const read = (namespace: string): Promise<NamespaceState> => {
      let state = states.get(namespace);
      if (state === undefined) {
        state = readNamespace(
          context.api,
          namespace,
          wanted.get(namespace) ?? new Set(),
          archiveDir !== undefined,
          reads.signal,
        );
        // Failures are seen by each target that awaits it; this copy only keeps them from being unhandled.
        state.catch(() => undefined);
        states.set(namespace, state);
      }
      return state;
    };
    /** This namespace's state, and the next one's read started ahead (one ahead only: memory stays flat). */
    const stateOf = (namespace: string): Promise<NamespaceState> => {
      const state = read(namespace);
      const next = namespaces[namespaces.indexOf(namespace) + 1];
      if (next !== undefined && !finished.has(next)) void read(next);
      return state;
    };
    const release = (namespace: string) => {
      const left = (remaining.get(namespace) ?? 1) - 1;
      remaining.set(namespace, left);
      // A namespace's pods and events are dropped once its last target is done: memory follows the namespaces in
      // progress, not the cluster.
      if (left === 0) {
        states.delete(namespace);
        finished.add(namespace);
      }
    };

    const write = async (target: PlanTarget): Promise<TargetResult> => {
      try {
        const state = await stateOf(target.namespace);
        const pod = state.pods.get(target.name);
        if (pod === undefined) return { outcome: 'gone', detail: 'no longer in the namespace' };
        if (pod.metadata.uid !== target.uid) {
          return {
            outcome: 'conflict',
            detail: `replaced since the plan: a new pod of the same name (uid ${pod.metadata.uid ?? '?'}) is left alone`,
          };
        }
        if (!isFailedLauncher(pod)) {
          return { outcome: 'skipped', detail: 'no longer a Failed virt-launcher pod' };
        }
        let archived: string | undefined;
        if (archiveDir !== undefined) {
          archived = await archivePod(archiveDir, pod, state.events.get(target.name) ?? [], folders);
        }
        await context.api.delete('pods', target.name, target.namespace, {
          preconditions: { uid: target.uid },
          dryRun: context.dryRun === 'server',
        });
        return archived === undefined
          ? { outcome: 'done' }
          : { outcome: 'done', detail: `archived ${archived}` };
      } finally {
        release(target.namespace);
      }
    };
    try {
      return await forEachTarget(step, context, write);
    } finally {
      // A namespace read ahead that no target will use (after an abort) must not outlive the step.
      reads.abort();
    }
  };
}

async function readNamespace(
  api: KubeApi,
  namespace: string,
  names: ReadonlySet<string>,
  withEvents: boolean,
  signal: AbortSignal,
): Promise<NamespaceState> {
  const pods = new Map<string, Pod>();
  // Every pod of the namespace, not only the labelled ones: a planned pod whose labels changed is still there and
  // must be told apart from one that is gone. Only the planned names are kept.
  for await (const pod of api.list<Pod>('pods', { namespace, signal })) {
    if (names.has(pod.metadata.name)) pods.set(pod.metadata.name, pod);
  }
  const events = new Map<string, Event[]>();
  if (withEvents) {
    for await (const event of api.list<Event>('events', {
      namespace,
      fieldSelector: 'involvedObject.kind=Pod',
      signal,
    })) {
      const name = event.involvedObject.name;
      if (name === undefined) continue;
      const pod = pods.get(name);
      // Events of an earlier pod of the same name are not this pod's.
      if (pod === undefined || (event.involvedObject.uid && event.involvedObject.uid !== pod.metadata.uid))
        continue;
      const list = events.get(name);
      if (list) list.push(event);
      else events.set(name, [event]);
    }
  }
  return { pods, events };
}

/**
 * Writes `<dir>/<namespace>/<pod>.yaml` (the pod, then each of its events, as YAML documents) and fsyncs it.
 * pause archives the Failed launchers of the VMs it halts with it too.
 */
export async function archivePod(
  dir: string,
  pod: Pod,
  events: readonly Event[],
  folders: Map<string, Promise<unknown>>,
): Promise<string> {
  const namespace = pod.metadata.namespace ?? '';
  const folder = join(dir, namespace);
  let made = folders.get(folder);
  if (made === undefined) {
    made = mkdir(folder, { recursive: true });
    folders.set(folder, made);
  }
  await made;
  const path = join(folder, `${pod.metadata.name}.yaml`);
  // YAML documents written as JSON (JSON is YAML 1.2): a YAML serializer costs more CPU per pod than the DELETE.
  const text = [pod, ...events].map((object) => `${JSON.stringify(object, null, 2)}\n`).join('---\n');
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return path;
}
