import { isConflict, isNotFound } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { ClusterReader } from '../cluster/reader.js';
import type { Event, Pod, VirtualMachine } from '../kube/types.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
  isFailedLauncher,
} from '../launcher/launcher-pod.js';
import { type CheckedExecutor, rulesIn, targetNamespaces, withAccess } from './access-check.js';
import { archivePod } from './clean.js';
import { forEachTarget, type TargetResult } from './for-each-target.js';
import type { PlanStep, PlanTarget, StepExecutor } from './plan.js';

// The runbook's Mitigation 1, second half: "pause offending workloads". A VM stops being restarted (and stops
// leaving a Failed launcher behind each time) when its run strategy is Halted. The VM's previous run field goes
// into an annotation in the same patch, so `pause --undo` puts back exactly what was there, and only on VMs that
// this tool paused. shared/kubevirt.md §7: runStrategy and the deprecated `running` are mutually exclusive, and
// halting deletes the VMI and with it the VM's Failed launchers, so those are archived first (DESIGN §6).

export const PAUSE_STEP = 'pause';
export const UNPAUSE_STEP = 'pause-undo';
/** Holds, as JSON, the run field the VM had before we halted it: `{"runStrategy":"Always"}` or `{"running":true}`. */
export const PAUSED_FROM_ANNOTATION = 'stuckfailed.io/paused-from';
/** The label KubeVirt puts on every launcher of a VM (pkg/virt-controller/services/template.go). */
export const VM_NAME_LABEL = 'vm.kubevirt.io/name';
const VM_KIND = 'VirtualMachine';
const RESOURCE = 'virtualmachines';

/** The one field that says whether a VM runs: runStrategy, or the deprecated `running`. */
export type RunField = { runStrategy: string } | { running: boolean };

/** The VM's run field as it is; undefined when it has neither (KubeVirt then does not start it). */
export function runFieldOf(vm: VirtualMachine): RunField | undefined {
  if (typeof vm.spec.runStrategy === 'string') return { runStrategy: vm.spec.runStrategy };
  if (typeof vm.spec.running === 'boolean') return { running: vm.spec.running };
  return undefined;
}

export function isHalted(field: RunField | undefined): boolean {
  if (field === undefined) return true;
  return 'runStrategy' in field ? field.runStrategy === 'Halted' : !field.running;
}

export function describeRunField(field: RunField): string {
  return 'runStrategy' in field ? `runStrategy: ${field.runStrategy}` : `running: ${field.running}`;
}

/** The run field recorded by pause, or undefined when the annotation is absent or not one we wrote. */
export function pausedFrom(vm: VirtualMachine): RunField | undefined {
  const text = vm.metadata.annotations?.[PAUSED_FROM_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Object.keys(value).length !== 1) return undefined;
    const { runStrategy, running } = value as { runStrategy?: unknown; running?: unknown };
    if (typeof runStrategy === 'string') return { runStrategy };
    if (typeof running === 'boolean') return { running };
  } catch {
    // Not JSON: someone else's value; handled as unreadable below.
  }
  return undefined;
}

/** The halting patch: the same field the VM uses, so it never holds both (the apiserver refuses that). */
function haltSpec(field: RunField): Record<string, unknown> {
  return 'runStrategy' in field ? { runStrategy: 'Halted' } : { running: false };
}

/** The restoring patch: the recorded field back, the other one removed in case it was switched meanwhile. */
function restoreSpec(field: RunField): Record<string, unknown> {
  return 'runStrategy' in field
    ? { runStrategy: field.runStrategy, running: null }
    : { running: field.running, runStrategy: null };
}

export interface VmRef {
  namespace: string;
  name: string;
}

export interface PauseScope {
  /** -n NAMESPACE; undefined is every namespace (-A). */
  namespace?: string | undefined;
  /** --vm NAME */
  vm?: string | undefined;
  /** -l: a label selector on the VMs. */
  labelSelector?: string | undefined;
  /** --min-failed K: only VMs with at least K Failed launchers. */
  minFailed?: number | undefined;
}

export interface PauseOptions {
  /** Why the step is there; default: the operator asked (or, with minFailed, the VMs' failures). */
  reason?: PlanStep['reason'];
}

export interface PlannedPause extends VmRef {
  from: RunField;
  /** Failed launchers the VM holds now: archived before the halt deletes them. */
  failedLaunchers: number;
}

export interface PausePlan {
  step: PlanStep;
  /** One per target, in the same order. */
  pauses: PlannedPause[];
  /** VMs in scope left alone: already paused by us, or halted by someone. */
  alreadyPaused: number;
  alreadyHalted: number;
}

/** Reads the VMs in scope (and their Failed launchers) and plans halting the running ones; writes nothing. */
export async function planPause(
  reader: ClusterReader,
  scope: PauseScope,
  options: PauseOptions = {},
): Promise<PausePlan> {
  const failedByVm = await countFailedLaunchersByVm(reader, scope.namespace);
  const pauses: PlannedPause[] = [];
  const targets: PlanTarget[] = [];
  let alreadyPaused = 0;
  let alreadyHalted = 0;
  for await (const vm of listVms(reader, scope)) {
    const namespace = vm.metadata.namespace ?? '';
    const failedLaunchers = failedByVm.get(`${namespace}/${vm.metadata.name}`) ?? 0;
    if (scope.minFailed !== undefined && failedLaunchers < scope.minFailed) continue;
    if (vm.metadata.annotations?.[PAUSED_FROM_ANNOTATION] !== undefined) {
      alreadyPaused += 1;
      continue;
    }
    const from = runFieldOf(vm);
    if (from === undefined || isHalted(from)) {
      alreadyHalted += 1;
      continue;
    }
    targets.push({ kind: VM_KIND, namespace, name: vm.metadata.name, uid: vm.metadata.uid ?? '' });
    pauses.push({ namespace, name: vm.metadata.name, from, failedLaunchers });
  }
  const step: PlanStep = {
    id: PAUSE_STEP,
    action: 'pause',
    reason:
      options.reason ??
      (scope.minFailed === undefined
        ? { cause: 'operator', summary: `halt the ${targets.length} VM(s) asked for` }
        : {
            cause: 'operator',
            summary: `halt the ${targets.length} VM(s) with at least ${scope.minFailed} Failed launchers`,
          }),
    targets,
    count: targets.length,
    caps: scope.minFailed === undefined ? {} : { minFailed: scope.minFailed },
  };
  return { step, pauses, alreadyPaused, alreadyHalted };
}

function listVms(reader: ClusterReader, scope: PauseScope): AsyncIterable<VirtualMachine> {
  const vms = reader.list<VirtualMachine>(RESOURCE, {
    ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }),
    ...(scope.labelSelector ? { labelSelector: scope.labelSelector } : {}),
  });
  if (scope.vm === undefined) return vms;
  const name = scope.vm;
  return (async function* () {
    for await (const vm of vms) if (vm.metadata.name === name) yield vm;
  })();
}

/**
 * Failed launchers per VM (`namespace/vm`), from one streamed list of the Failed launchers in scope: memory grows
 * with the VMs that have failures, not with the pods.
 */
export async function countFailedLaunchersByVm(
  reader: ClusterReader,
  namespace: string | undefined,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const pods = reader.list<Pod>('pods', {
    labelSelector: FAILED_LAUNCHER_LABEL_SELECTOR,
    fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
    ...(namespace === undefined ? {} : { namespace }),
  });
  for await (const pod of pods) {
    const vm = pod.metadata.labels?.[VM_NAME_LABEL];
    if (vm === undefined || !isFailedLauncher(pod)) continue;
    const key = `${pod.metadata.namespace ?? ''}/${vm}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Keeps a Failed launcher (its manifest and events) before the halt deletes it. */
export type ArchiveLauncher = (pod: Pod, api: KubeApi) => Promise<void>;

/**
 * clean's archive for the launchers a halt deletes: `<dir>/<namespace>/<pod>.yaml` with the pod and its events,
 * fsynced before the VM is patched. A VM holds a few Failed launchers, so each pod's events are one small list.
 */
export function archiveLaunchersTo(dir: string): ArchiveLauncher {
  const folders = new Map<string, Promise<unknown>>();
  return async (pod, api) => {
    const events: Event[] = [];
    const list = api.list<Event>('events', {
      namespace: pod.metadata.namespace ?? '',
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod.metadata.name}`,
    });
    for await (const event of list) {
      // Events of an earlier pod of the same name are not this pod's.
      if (event.involvedObject.uid && event.involvedObject.uid !== pod.metadata.uid) continue;
      events.push(event);
    }
    await archivePod(dir, pod, events, folders);
  };
}

export interface PauseExecutorOptions {
  /** Undefined only when the operator opted out (--no-archive): the halted VMs' Failed launchers are then lost. */
  archive: ArchiveLauncher | undefined;
}

/** Reads and patches again when the VM changed between the two; more changes than this is a conflict. */
const ATTEMPTS = 3;

/**
 * Halts each planned VM that is still the planned object, still running and not paused already: archives its
 * Failed launchers, then one merge patch sets the halting field and the annotation with what was there. The
 * patch carries the resourceVersion just read (409 when the VM changed since), so the recorded value is exactly
 * the value replaced.
 */
export function makePauseExecutor(options: PauseExecutorOptions): CheckedExecutor {
  const run: StepExecutor = (step, context) =>
    forEachTarget(step, context, async (target): Promise<TargetResult> => {
      const archived = new Set<string>();
      for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
        const vm = await context.api.get<VirtualMachine>(RESOURCE, target.name, target.namespace);
        if (vm === undefined) return { outcome: 'gone', detail: 'already gone' };
        if (vm.metadata.uid !== target.uid) {
          return { outcome: 'conflict', detail: 'replaced by a new VM of the same name since the plan' };
        }
        if (vm.metadata.annotations?.[PAUSED_FROM_ANNOTATION] !== undefined) {
          return { outcome: 'skipped', detail: 'already paused by stuckfailed' };
        }
        const from = runFieldOf(vm);
        if (from === undefined || isHalted(from)) {
          return { outcome: 'skipped', detail: 'already halted since the plan' };
        }
        // Archiving writes local files; a server-side dry run writes nothing anywhere.
        if (options.archive !== undefined && context.dryRun === 'none') {
          for (const pod of await failedLaunchersOf(context.api, target)) {
            if (archived.has(pod.metadata.uid ?? pod.metadata.name)) continue;
            await options.archive(pod, context.api);
            archived.add(pod.metadata.uid ?? pod.metadata.name);
          }
        }
        try {
          await context.api.mergePatch(
            RESOURCE,
            target.name,
            target.namespace,
            {
              metadata: {
                resourceVersion: vm.metadata.resourceVersion,
                annotations: { [PAUSED_FROM_ANNOTATION]: JSON.stringify(from) },
              },
              spec: haltSpec(from),
            },
            { dryRun: context.dryRun === 'server' },
          );
          const kept = archived.size > 0 ? `; ${archived.size} Failed launcher(s) archived` : '';
          return { outcome: 'done', detail: `halted (was ${describeRunField(from)})${kept}` };
        } catch (error) {
          if (isNotFound(error)) return { outcome: 'gone', detail: 'already gone' };
          if (!isConflict(error)) throw error;
        }
      }
      return { outcome: 'conflict', detail: `kept changing while we tried to pause it (${ATTEMPTS} reads)` };
    });
  return withAccess(run, (step, context) => {
    const namespaces = targetNamespaces(step);
    const archiving = options.archive !== undefined && context.dryRun === 'none';
    return [
      ...rulesIn(namespaces, 'kubevirt.io', RESOURCE, ['get', 'patch']),
      ...(archiving
        ? [...rulesIn(namespaces, '', 'pods', ['list']), ...rulesIn(namespaces, '', 'events', ['list'])]
        : []),
    ];
  });
}

async function failedLaunchersOf(api: KubeApi, vm: PlanTarget): Promise<Pod[]> {
  const pods: Pod[] = [];
  const list = api.list<Pod>('pods', {
    namespace: vm.namespace,
    labelSelector: `${FAILED_LAUNCHER_LABEL_SELECTOR},${VM_NAME_LABEL}=${vm.name}`,
    fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
  });
  for await (const pod of list) if (isFailedLauncher(pod)) pods.push(pod);
  return pods;
}

export interface UnpauseScope {
  namespace?: string | undefined;
  vm?: string | undefined;
  labelSelector?: string | undefined;
}

export interface PlannedUnpause extends VmRef {
  to: RunField;
}

/** A VM in scope that undo leaves alone, and why. */
export interface RefusedUnpause extends VmRef {
  reason: string;
}

export interface UnpausePlan {
  step: PlanStep;
  /** One per target, in the same order. */
  restores: PlannedUnpause[];
  /** VMs in scope that this tool did not pause (no annotation): counted, never touched. */
  notPaused: number;
  /** VMs with our annotation that undo will not touch (changed since, or an annotation we did not write). */
  refused: RefusedUnpause[];
  /** With --vm: the VM named, when it is not paused by us (what to tell the operator). */
  named?: RefusedUnpause;
}

/** Plans restoring the VMs in scope that pause halted; every other VM is reported and left alone. */
export async function planUnpause(reader: ClusterReader, scope: UnpauseScope): Promise<UnpausePlan> {
  const restores: PlannedUnpause[] = [];
  const targets: PlanTarget[] = [];
  const refused: RefusedUnpause[] = [];
  let notPaused = 0;
  let named: RefusedUnpause | undefined;
  for await (const vm of listVms(reader, scope)) {
    const ref = { namespace: vm.metadata.namespace ?? '', name: vm.metadata.name };
    const refusal = unpauseRefusal(vm);
    if (refusal === 'not paused by stuckfailed') {
      notPaused += 1;
      if (scope.vm !== undefined) named = { ...ref, reason: refusal };
      continue;
    }
    if (refusal !== undefined) {
      refused.push({ ...ref, reason: refusal });
      continue;
    }
    targets.push({ kind: VM_KIND, ...ref, uid: vm.metadata.uid ?? '' });
    restores.push({ ...ref, to: pausedFrom(vm) as RunField });
  }
  const step: PlanStep = {
    id: UNPAUSE_STEP,
    action: 'pause',
    reason: { cause: 'operator', summary: `restore the ${targets.length} VM(s) paused by stuckfailed` },
    targets,
    count: targets.length,
    caps: { undo: true },
  };
  return { step, restores, notPaused, refused, ...(named === undefined ? {} : { named }) };
}

/** Why undo must not touch this VM, or undefined when it may restore it. */
function unpauseRefusal(vm: VirtualMachine): string | undefined {
  if (vm.metadata.annotations?.[PAUSED_FROM_ANNOTATION] === undefined) return 'not paused by stuckfailed';
  if (pausedFrom(vm) === undefined) {
    return `its ${PAUSED_FROM_ANNOTATION} annotation is not one stuckfailed wrote; left as is`;
  }
  const now = runFieldOf(vm);
  // Someone changed the run field after the pause: putting the old value back would undo their change.
  if (now !== undefined && !isHalted(now)) {
    return `changed since stuckfailed paused it (now ${describeRunField(now)}); left as is, annotation kept`;
  }
  return undefined;
}

/**
 * Restores each planned VM: the recorded run field back and the annotation removed, in one merge patch that
 * carries the resourceVersion just read. A VM that is no longer ours to restore (annotation gone, run field
 * changed by someone) is left alone.
 */
export const unpauseVms: CheckedExecutor = withAccess(
  (step, context) =>
    forEachTarget(step, context, async (target): Promise<TargetResult> => {
      for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
        const vm = await context.api.get<VirtualMachine>(RESOURCE, target.name, target.namespace);
        if (vm === undefined) return { outcome: 'gone', detail: 'already gone' };
        if (vm.metadata.uid !== target.uid) {
          return { outcome: 'conflict', detail: 'replaced by a new VM of the same name since the plan' };
        }
        const refusal = unpauseRefusal(vm);
        if (refusal === 'not paused by stuckfailed') {
          return { outcome: 'skipped', detail: 'not paused (already restored?)' };
        }
        if (refusal !== undefined) return { outcome: 'conflict', detail: refusal };
        const to = pausedFrom(vm) as RunField;
        try {
          await context.api.mergePatch(
            RESOURCE,
            target.name,
            target.namespace,
            {
              metadata: {
                resourceVersion: vm.metadata.resourceVersion,
                annotations: { [PAUSED_FROM_ANNOTATION]: null },
              },
              spec: restoreSpec(to),
            },
            { dryRun: context.dryRun === 'server' },
          );
          return { outcome: 'done', detail: `restored ${describeRunField(to)}` };
        } catch (error) {
          if (isNotFound(error)) return { outcome: 'gone', detail: 'already gone' };
          if (!isConflict(error)) throw error;
        }
      }
      return {
        outcome: 'conflict',
        detail: `kept changing while we tried to restore it (${ATTEMPTS} reads)`,
      };
    }),
  (step) => rulesIn(targetNamespaces(step), 'kubevirt.io', RESOURCE, ['get', 'patch']),
);
