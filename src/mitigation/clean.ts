import { setMaxListeners } from 'node:events';
import { writeFile } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isApiError } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { Event, Pod } from '../kube/types.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
  isFailedLauncher,
  launcherEndedAt,
  launcherVmiKey,
} from '../launcher/launcher-pod.js';
import { type CheckedExecutor, rulesIn, targetNamespaces, withAccess } from './access-check.js';
import { forEachTarget, type TargetResult } from './for-each-target.js';
import { type PlanStep, type PlanTarget, type StepExecutor, targetKey } from './plan.js';

// Mitigation 2 of the runbook: delete the Failed virt-launcher pods, which nothing else removes before the pod
// garbage collector's 12,500 terminated pods. Planning is a pure selection over the pods as they stream in; the
// executor archives each pod with its events, then deletes it with the uid and the resourceVersion of what it
// archived as preconditions, so that what is deleted is exactly what was planned, its archive is exactly what was
// deleted, and nothing is lost that the root cause analysis could still need.

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
          byCodeUnits(a.target.name, b.target.name),
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

/**
 * The pods a plan's list returned, held for the executor that runs right after it (clean --yes), so that it does
 * not list them a second time: a list per namespace fewer, and pods not parsed twice. Holding them is safe because
 * the executor deletes each pod with the resourceVersion it archived as a precondition: a pod that changed since
 * the plan is read again, never archived stale. A namespace is held whole or not at all (one that is not held is
 * listed as before), and nothing more is held once `budget` pods are: the first page of a plan's list, whatever the
 * size of the plan.
 */
export class HeldPods {
  readonly #byNamespace = new Map<string, Pod[]>();
  readonly #budget: number;
  #count = 0;
  #spent = false;

  /** The default budget, one page of the API client's lists: about 7 MB of parsed pods. */
  constructor(budget = 500) {
    this.#budget = budget;
  }

  /** The same pods, held as they pass. */
  async *pass(pods: AsyncIterable<Pod>): AsyncGenerator<Pod> {
    for await (const pod of pods) {
      this.#hold(pod);
      yield pod;
    }
  }

  #hold(pod: Pod): void {
    const namespace = pod.metadata.namespace ?? '';
    if (!this.#spent && this.#count >= this.#budget) this.#spent = true;
    // Past the budget, a namespace that gets one more pod is not held whole any more.
    if (this.#spent) {
      this.#count -= this.#byNamespace.get(namespace)?.length ?? 0;
      this.#byNamespace.delete(namespace);
      return;
    }
    const held = this.#byNamespace.get(namespace);
    if (held) held.push(pod);
    else this.#byNamespace.set(namespace, [pod]);
    this.#count += 1;
  }

  /** All the pods the list returned in this namespace, in name order, each let go as it is read; or undefined. */
  take(namespace: string): AsyncIterable<Pod> | undefined {
    const held = this.#byNamespace.get(namespace);
    if (held === undefined) return undefined;
    this.#byNamespace.delete(namespace);
    this.#count -= held.length;
    held.sort((a, b) => byCodeUnits(a.metadata.name, b.metadata.name));
    return (async function* () {
      while (held.length > 0) yield held.shift() as Pod;
    })();
  }
}

export interface CleanExecutorOptions {
  /** Where each pod goes before its DELETE: `<archiveDir>/<namespace>/<pod>.yaml`; undefined: no archive. */
  archiveDir: string | undefined;
  /** Pods the plan read, used instead of listing their namespace again. */
  held?: HeldPods | undefined;
  /** Pods per page of the executor's own lists (default CLAIMED_PAGE_SIZE); the safety tests split lists with less. */
  pageSize?: number | undefined;
}

/** Reads and DELETEs of one pod that keeps changing under us before it is reported as a conflict. */
const CHANGED_POD_ATTEMPTS = 3;

/**
 * One namespace's Failed launchers as their list streams them, each handed to the target that claims it. Targets
 * claim in name order, the order a paged list comes in (its continue token is the last key read), so what is held
 * at once is the pods of the writes in flight and the page being read, whatever the size of the namespace. A name
 * the list does not hold (passed or ended without it) is read once more by itself (`fetch`): a pod that was
 * replaced or relabelled since the plan is then told apart from one that is gone, and a list out of order costs
 * requests, never a wrong answer. Pods read ahead of their claim wait in `pending`.
 */
export class NamespacePods {
  readonly #pods: AsyncIterator<Pod>;
  readonly #wanted: { has(name: string): boolean };
  readonly #fetch: (name: string) => Promise<Pod | undefined>;
  /** Planned pods the list has passed and no target has claimed yet. */
  readonly #pending = new Map<string, Pod>();
  #last: string | undefined;
  #inKeyOrder = true;
  #ended = false;
  #error: unknown;
  /** Claims run one after the other: they share the list's position. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The first read, started before any claim (see start). */
  #head: Promise<IteratorResult<Pod>> | undefined;

  constructor(
    pods: AsyncIterable<Pod>,
    wanted: { has(name: string): boolean },
    fetch: (name: string) => Promise<Pod | undefined>,
  ) {
    this.#pods = pods[Symbol.asyncIterator]();
    this.#wanted = wanted;
    this.#fetch = fetch;
  }

  /** Starts reading the list before the first claim, so that the claim does not wait for a round trip. */
  start(): void {
    this.#head ??= this.#pods.next();
    // Its failure is met by the claim that consumes it; this copy only keeps it from being unhandled.
    this.#head.catch(() => undefined);
  }

  /** The pod of this name as the server has it now, or undefined when the namespace no longer holds it. */
  claim(name: string): Promise<Pod | undefined> {
    const claimed = this.#queue.then(() => this.#claim(name));
    this.#queue = claimed.catch(() => undefined);
    return claimed;
  }

  async #claim(name: string): Promise<Pod | undefined> {
    const held = this.#pending.get(name);
    if (held !== undefined) {
      this.#pending.delete(name);
      return held;
    }
    // A failed list fails every claim after it too: a target must never be taken for gone because a read broke.
    if (this.#error !== undefined) throw this.#error;
    if (this.#passed(name)) return this.#fetch(name);
    while (!this.#ended) {
      let next: IteratorResult<Pod>;
      try {
        const head = this.#head;
        this.#head = undefined;
        next = await (head ?? this.#pods.next());
      } catch (error) {
        this.#error = error;
        throw error;
      }
      if (next.done) {
        this.#ended = true;
        break;
      }
      const pod = next.value;
      const podName = pod.metadata.name;
      if (this.#last !== undefined && podName < this.#last) this.#inKeyOrder = false;
      this.#last = podName;
      if (podName === name) return pod;
      if (this.#wanted.has(podName)) this.#pending.set(podName, pod);
      if (this.#passed(name)) return this.#fetch(name);
    }
    return this.#fetch(name);
  }

  /** In key order, a name behind the list's position is not coming (unless the list is out of order). */
  #passed(name: string): boolean {
    return this.#inKeyOrder && this.#last !== undefined && this.#last > name;
  }

  /** Stops the list (its next page is not fetched). */
  close(): void {
    void this.#pods.return?.().catch(() => undefined);
  }
}

/**
 * Pods per page of the executor's lists. The writes claim a few dozen pods at a time; a page of 500 (3-4 MB of JSON,
 * the plan's size) would only be held longer, per namespace read ahead, and the peak memory would follow the size
 * of the namespaces.
 */
const CLAIMED_PAGE_SIZE = 100;

interface NamespaceState {
  pods: NamespacePods;
  /** The planned pods' events, read before the first pod is archived. */
  events: Promise<Map<string, Event[]>>;
}

/** Key order, as etcd lists: by namespace, then by name (plain code-unit order; Kubernetes names are ASCII). */
function inKeyOrder(a: PlanTarget, b: PlanTarget): number {
  return byCodeUnits(a.namespace, b.namespace) || byCodeUnits(a.name, b.name);
}

/** Plain code-unit order, as etcd lists keys (no localeCompare: its first call loads ICU's collator). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Deletes the planned pods, namespace by namespace in key order. Per namespace it reads, when archiving, the
 * planned pods' events once (one list, not one per pod), and streams the namespace's Failed launchers once (to
 * archive each, and to see which were replaced or are gone since the plan), unless the plan held them (HeldPods);
 * the next namespaces' events and first pages are read ahead, so the deletes never wait on them for long. Then for
 * each pod, in parallel under the API client's caps: archive (written and fsynced), then DELETE with the planned
 * uid and the archived resourceVersion as preconditions. Memory follows the writes in flight and the planned pods'
 * events of the namespaces in progress and read ahead, not the size of the cluster.
 */
export function createCleanExecutor(options: CleanExecutorOptions): CheckedExecutor {
  const run: StepExecutor = async (step, context) => {
    const archiveDir = context.dryRun === 'server' ? undefined : options.archiveDir;
    const pageSize = options.pageSize ?? CLAIMED_PAGE_SIZE;
    const ordered: PlanStep = { ...step, targets: [...step.targets].sort(inKeyOrder) };
    const namespaces: string[] = [];
    /** Each namespace's index in `namespaces`, for the read-ahead. */
    const position = new Map<string, number>();
    const remaining = new Map<string, number>();
    const wanted = new Map<string, Map<string, string>>();
    for (const target of ordered.targets) {
      if (context.settled.has(targetKey(step.id, target))) continue;
      let names = wanted.get(target.namespace);
      if (names === undefined) {
        position.set(target.namespace, namespaces.length);
        namespaces.push(target.namespace);
        names = new Map();
        wanted.set(target.namespace, names);
      }
      names.set(target.name, target.uid);
      remaining.set(target.namespace, (remaining.get(target.namespace) ?? 0) + 1);
    }
    const reads = new AbortController();
    // Every list of the step listens to this one signal: more than Node's default ten, and none of them leaks.
    setMaxListeners(Number.POSITIVE_INFINITY, reads.signal);
    const states = new Map<string, NamespaceState>();
    const finished = new Set<string>();
    const folders = new Map<string, Promise<unknown>>();
    /** Starts reading a namespace: its planned pods' events, and the first page of its pods. */
    const open = (namespace: string): NamespaceState => {
      let state = states.get(namespace);
      if (state === undefined) {
        const names = wanted.get(namespace) ?? new Map<string, string>();
        const events =
          archiveDir === undefined
            ? Promise.resolve(new Map<string, Event[]>())
            : readEvents(context.api, namespace, names, reads.signal);
        // Failures are seen by each target that awaits them; this copy only keeps them from being unhandled.
        events.catch(() => undefined);
        // Only what the plan's list selected: the pods that are no longer Failed launchers are few, and each is read
        // by itself (NamespacePods), so a namespace's other pods are neither sent nor parsed.
        const pods = new NamespacePods(
          options.held?.take(namespace) ??
            context.api.list<Pod>('pods', {
              namespace,
              labelSelector: FAILED_LAUNCHER_LABEL_SELECTOR,
              fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
              limit: pageSize,
              signal: reads.signal,
            }),
          names,
          (name) => context.api.get<Pod>('pods', name, namespace, reads.signal),
        );
        pods.start();
        state = { pods, events };
        states.set(namespace, state);
      }
      return state;
    };
    /**
     * This namespace's state, with the namespaces after it read ahead: at least the next one, and as many as it
     * takes to cover twice the writes in flight, so that many small namespaces do not each make the deletes wait
     * for a read. What is held ahead is bounded by the in-flight cap or two namespaces, not by the cluster.
     */
    const stateOf = (namespace: string): NamespaceState => {
      const known = states.has(namespace);
      const state = open(namespace);
      if (!known) {
        const ahead = 2 * context.api.inFlightLimit().max;
        let covered = 0;
        for (let index = (position.get(namespace) ?? 0) + 1; index < namespaces.length; index += 1) {
          if (covered >= ahead) break;
          const next = namespaces[index] as string;
          if (!finished.has(next)) open(next);
          covered += remaining.get(next) ?? 0;
        }
      }
      return state;
    };
    const release = (namespace: string) => {
      const left = (remaining.get(namespace) ?? 1) - 1;
      remaining.set(namespace, left);
      // A namespace's list and events are dropped once its last target is done.
      if (left === 0) {
        states.get(namespace)?.pods.close();
        states.delete(namespace);
        finished.add(namespace);
      }
    };

    const write = async (target: PlanTarget): Promise<TargetResult> => {
      try {
        const state = stateOf(target.namespace);
        let pod = await state.pods.claim(target.name);
        for (let attempt = 1; ; attempt += 1) {
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
            const podEvents = (await state.events).get(target.name) ?? [];
            archived = await archivePod(archiveDir, pod, podEvents, folders);
          }
          const resourceVersion = pod.metadata.resourceVersion;
          try {
            await context.api.delete('pods', target.name, target.namespace, {
              preconditions: { uid: target.uid, ...(resourceVersion ? { resourceVersion } : {}) },
              dryRun: context.dryRun === 'server',
            });
          } catch (error) {
            // 409: the pod changed since it was read (or was replaced). Read it again and decide anew, so that what
            // is deleted is always what was archived.
            if (!isApiError(error, 409) || attempt >= CHANGED_POD_ATTEMPTS) throw error;
            pod = await context.api.get<Pod>('pods', target.name, target.namespace, reads.signal);
            continue;
          }
          return archived === undefined
            ? { outcome: 'done' }
            : { outcome: 'done', detail: `archived ${archived}` };
        }
      } finally {
        release(target.namespace);
      }
    };
    try {
      return await forEachTarget(ordered, context, write);
    } finally {
      // Reads started ahead that no target will use (after an abort) must not outlive the step.
      reads.abort();
      for (const state of states.values()) state.pods.close();
    }
  };
  return withAccess(run, (step, context) => {
    const namespaces = targetNamespaces(step);
    const archiving = options.archiveDir !== undefined && context.dryRun !== 'server';
    return [
      ...rulesIn(namespaces, '', 'pods', ['list', 'get', 'delete']),
      ...(archiving ? rulesIn(namespaces, '', 'events', ['list']) : []),
    ];
  });
}

/** The events of the planned pods of one namespace (name to uid), by pod name. */
async function readEvents(
  api: KubeApi,
  namespace: string,
  planned: ReadonlyMap<string, string>,
  signal: AbortSignal,
): Promise<Map<string, Event[]>> {
  const events = new Map<string, Event[]>();
  for await (const event of api.list<Event>('events', {
    namespace,
    fieldSelector: 'involvedObject.kind=Pod',
    signal,
  })) {
    const name = event.involvedObject.name;
    if (name === undefined) continue;
    const uid = planned.get(name);
    // Events of an earlier pod of the same name are not this pod's; a replaced pod is not archived at all.
    if (uid === undefined || (event.involvedObject.uid && event.involvedObject.uid !== uid)) continue;
    const list = events.get(name);
    if (list) list.push(event);
    else events.set(name, [event]);
  }
  return events;
}

/**
 * The callback writeFile, promisified: its four steps (open, write, fsync, close) cost half the CPU of the
 * FileHandle-based one in fs/promises, and a cleanup writes one file per pod.
 */
const writeFileFlushed = promisify(writeFile);

/**
 * Writes `<dir>/<namespace>/<pod>.yaml` (the pod, then each of its events, one YAML document each) and fsyncs it.
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
  // flush: fsync before the promise resolves, so that the DELETE that follows never outruns its archive.
  await writeFileFlushed(path, text, { flush: true });
  return path;
}
