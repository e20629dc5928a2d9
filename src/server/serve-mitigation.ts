// What `serve` runs against the cluster (the MitigationFunctions of createClusterMitigator): mitigate's plan, cut
// to what the policy allows, the executors of the writing commands with an archive per incident, and validate's
// watch of the count over a window. The same functions `mitigate` and `validate` use, so a plan approved on the
// page does exactly what the CLI would.
import path from 'node:path';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import type { CauseCategory } from '../diagnosis/types.js';
import { buildMitigationPlan, mitigationExecutors } from '../mitigation/mitigation-plan.js';
import {
  makePlan,
  type Plan,
  type PlanScope,
  type PlanStep,
  type PlanTarget,
  type UntouchedCause,
} from '../mitigation/plan.js';
import { validateClearing } from '../validation/validate-clearing.js';
import type { MitigationFunctions } from './mitigator.js';
import { actionMode, causePolicy, type Policy } from './policy.js';

export interface ServeMitigationOptions {
  /** Each incident's archive: `<archiveRoot>/<incident id>/<namespace>/<pod>.yaml`, written before each delete. */
  archiveRoot: string;
  /** serve -n: one namespace; undefined: the whole cluster (the alert is cluster-wide). */
  namespace?: string | undefined;
  /** serve -l: narrows the launchers cleaned and validated. */
  selector?: string | undefined;
  /** How long the count must stay below the threshold before an incident closes cleared. */
  windowMs: number;
  /** validate gives up (not cleared) after this long; default three windows. */
  timeoutMs?: number | undefined;
}

/** The archive directory of one incident. */
export function incidentArchiveDir(archiveRoot: string, incidentId: string): string {
  return path.join(archiveRoot, incidentId);
}

export function serveMitigation(options: ServeMitigationOptions): MitigationFunctions {
  const scope: PlanScope = {
    namespaces: options.namespace === undefined ? 'all' : [options.namespace],
    ...(options.selector ? { selector: options.selector } : {}),
  };
  const timeoutMs = options.timeoutMs ?? 3 * options.windowMs;
  return {
    async plan({ diagnosis, policy, api, now }) {
      const { plan } = await buildMitigationPlan({
        reader: new LiveClusterReader(api),
        diagnosis,
        scope,
        windowMs: options.windowMs,
        timeoutMs,
        threshold: diagnosis.threshold,
        now: now(),
      });
      return withinPolicy(plan, policy);
    },
    executors: ({ incidentId }) =>
      mitigationExecutors({ archiveDir: incidentArchiveDir(options.archiveRoot, incidentId) }),
    async validate({ api, threshold, signal }) {
      const verdict = await validateClearing({
        api,
        namespace: options.namespace,
        labelSelector: options.selector,
        threshold,
        windowMs: options.windowMs,
        timeoutMs,
        signal,
      });
      // The service is stopping: no verdict, so the next start validates again.
      if (verdict.outcome === 'aborted') throw new Error(`validation stopped: ${verdict.reason}`);
      return { verdict: verdict.cleared ? 'cleared' : 'not-cleared', reason: verdict.reason };
    },
  };
}

/**
 * The plan as the policy lets it run: a step whose action the policy never allows for its cause is dropped (and
 * said under `untouched`), and clean and pause steps are cut to the policy's caps (pods per run, per namespace; VMs
 * paused), the first targets in plan order kept, what is left said under `untouched` for the next run. A capped
 * step records its caps, so the digest says what limits were approved.
 */
export function withinPolicy(plan: Plan, policy: Policy): Plan {
  const steps: PlanStep[] = [];
  const untouched: UntouchedCause[] = [...plan.untouched];
  const cleanedByCause = new Map<string, number>();
  const pausedByCause = new Map<string, number>();
  for (const step of plan.steps) {
    const { cause } = step.reason;
    const reportAs: CauseCategory = cause === 'operator' ? 'unknown' : cause;
    if (step.action === 'validate') {
      steps.push(step);
      continue;
    }
    if (actionMode(policy, cause, step.action) === 'never') {
      untouched.push({
        cause: reportAs,
        remediation: [
          `not planned: the policy (${policy.source}) does not allow ${step.action} for cause ${cause}; ${step.count} target(s) left as they are`,
        ],
      });
      continue;
    }
    const { caps } = causePolicy(policy, cause);
    let targets = step.targets;
    const applied: Record<string, number> = {};
    if (step.action === 'clean') {
      if (caps.podsPerNamespace !== undefined) {
        targets = capPerNamespace(targets, caps.podsPerNamespace);
        applied.podsPerNamespace = caps.podsPerNamespace;
      }
      if (caps.podsPerRun !== undefined) {
        const used = cleanedByCause.get(cause) ?? 0;
        targets = targets.slice(0, Math.max(0, caps.podsPerRun - used));
        applied.podsPerRun = caps.podsPerRun;
      }
      cleanedByCause.set(cause, (cleanedByCause.get(cause) ?? 0) + targets.length);
    } else if (step.action === 'pause' && caps.vmsPaused !== undefined) {
      const used = pausedByCause.get(cause) ?? 0;
      targets = targets.slice(0, Math.max(0, caps.vmsPaused - used));
      applied.vmsPaused = caps.vmsPaused;
      pausedByCause.set(cause, used + targets.length);
    }
    const left = step.count - targets.length;
    if (left > 0) {
      untouched.push({
        cause: reportAs,
        remediation: [
          `${left} more target(s) of step ${step.id} left for a later run: the policy caps it (${Object.entries(
            applied,
          )
            .map(([name, value]) => `${name}=${value}`)
            .join(', ')})`,
        ],
      });
    }
    if (targets.length === 0) continue;
    steps.push(
      Object.keys(applied).length === 0
        ? step
        : { ...step, targets, count: targets.length, caps: { ...step.caps, ...applied } },
    );
  }
  return makePlan({ createdAt: plan.createdAt, scope: plan.scope, steps, untouched });
}

function capPerNamespace(targets: readonly PlanTarget[], cap: number): PlanTarget[] {
  const seen = new Map<string, number>();
  return targets.filter((target) => {
    const count = (seen.get(target.namespace) ?? 0) + 1;
    seen.set(target.namespace, count);
    return count <= cap;
  });
}
