// Turns a list of causes and their shares into a Scenario: the initial build, and churn steps that reuse the same
// cluster layout with names drawn from a stream of their own, so that every step is new and reproducible.

import type { CauseCategory } from '../../diagnosis/types.js';
import type { KubeObject } from '../../kube/types.js';
import { createRandom, deriveSeed } from '../random.js';
import { ClusterBuilder } from './cluster-builder.js';
import type { FailureKind } from './failure-kind.js';
import { layDownNoise, layDownRunningVm } from './noise.js';
import type { Scenario, ScenarioName, ScenarioOptions, ScenarioState } from './types.js';

export interface ScenarioDefinition {
  name: ScenarioName;
  summary: string;
  expectedTopCause: CauseCategory | undefined;
  /** The causes and their shares of the Failed launchers (shares sum to 1), largest first. */
  causes: Array<{ kind: FailureKind; share: number }>;
}

/** VM indexes of churn steps start here: far above any initial build, so names never collide. */
const CHURN_VM_INDEX_BASE = 5_000_000;
/** Room for the VMs one step may create (a failure lays down one; the bound keeps names apart if that grows). */
const CHURN_VMS_PER_STEP = 10;
/** How recent a churn step's failure is: it happens now, give or take the kubelet's status sync. */
const CHURN_WINDOW_SECONDS = 5;

/** Splits total by shares; the remainder of the rounding goes to the first (largest) share. */
export function shareCounts(total: number, shares: readonly number[]): number[] {
  const counts = shares.map((share) => Math.floor(total * share));
  const assigned = counts.reduce((sum, count) => sum + count, 0);
  if (counts.length > 0) counts[0] = (counts[0] ?? 0) + (total - assigned);
  return counts;
}

export function defineScenario(definition: ScenarioDefinition): Scenario {
  const shares = definition.causes.map((cause) => cause.share);

  const churnBuilder = (state: ScenarioState, now: Date, step: string): ClusterBuilder => {
    const sequence = state.sequence;
    // Each step advances the sequence itself, so callers cannot hand out the same names twice.
    state.sequence += 1;
    return new ClusterBuilder(state.options, {
      random: createRandom(deriveSeed(state.options.seed, 'churn', step, sequence)),
      firstVmIndex: CHURN_VM_INDEX_BASE + sequence * CHURN_VMS_PER_STEP,
      now,
      failureWindowSeconds: CHURN_WINDOW_SECONDS,
    });
  };

  const healthyStep = (state: ScenarioState, now: Date) => {
    const builder = churnBuilder(state, now, 'healthy');
    const [slot] = builder.slots(1);
    if (slot !== undefined) layDownRunningVm(builder, { ...slot, failedAt: now });
    return builder.finishChurn();
  };

  return {
    name: definition.name,
    summary: definition.summary,
    expectedTopCause: definition.expectedTopCause,
    build(options: ScenarioOptions, emit?: (object: KubeObject) => void) {
      const builder = new ClusterBuilder(options, {
        random: createRandom(options.seed),
        firstVmIndex: 0,
        now: options.now,
        emit,
      });
      for (const { kind } of definition.causes) kind.prepare(builder);
      const counts = shareCounts(Math.max(0, Math.floor(options.failed)), shares);
      definition.causes.forEach(({ kind }, index) => {
        kind.layDown(builder, counts[index] ?? 0);
      });
      layDownNoise(builder);
      return builder.finishCluster();
    },
    nextFailure(state: ScenarioState, now: Date) {
      // A scenario without a cause (healthy) has nothing to fail: its churn is VMs coming up.
      if (definition.causes.length === 0) return healthyStep(state, now);
      const builder = churnBuilder(state, now, 'failure');
      const kind = builder.random.weighted(
        definition.causes.map(({ kind, share }) => [kind, share] as const),
      );
      kind.layDown(builder, 1);
      return builder.finishChurn();
    },
    nextHealthy: healthyStep,
  };
}
