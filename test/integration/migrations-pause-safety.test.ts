// DESIGN §6 safety invariants of cancel-migrations and pause, as properties over random clusters, against the real
// simulator over HTTP with random faults (500s, 429s, reset connections, latency) set through POST /sim/faults:
// - cancel-migrations deletes only in-flight vmims in scope, never a finished one (not even one that finished
//   between the plan and the delete);
// - pause then pause --undo restores every VM exactly (its run field and its annotations, byte for byte), and
//   pause archives each VM's Failed launchers before the halt deletes them;
// - undo refuses (never touches) VMs it did not pause, and VMs changed since it paused them;
// - a run interrupted at a random point and resumed from its journal converges to the uninterrupted end state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { KubeApi } from '../../src/cluster/kube-api.js';
import { LiveClusterReader } from '../../src/cluster/live-cluster-reader.js';
import type { ResourceName } from '../../src/kube/resources.js';
import type {
  KubeObject,
  MigrationPhase,
  Pod,
  VirtualMachine,
  VirtualMachineInstanceMigration,
} from '../../src/kube/types.js';
import { cancelMigrations, planCancelMigrations } from '../../src/mitigation/cancel-migrations.js';
import {
  makePauseExecutor,
  PAUSED_FROM_ANNOTATION,
  planPause,
  planUnpause,
  unpauseVms,
} from '../../src/mitigation/pause.js';
import {
  type ApplyContext,
  type JournalEntry,
  type PlanStep,
  type StepExecutor,
  targetKey,
} from '../../src/mitigation/plan.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { launcherOf, memoryContext, testApi, vm, vmim, vmiOf } from '../helpers/vm-fixtures.js';

const PHASES: Array<MigrationPhase | undefined> = [
  undefined,
  'Pending',
  'Scheduling',
  'Scheduled',
  'PreparingTarget',
  'TargetReady',
  'Running',
  'WaitingForSync',
  'Synchronizing',
  'Succeeded',
  'Failed',
];
const isFinal = (phase: MigrationPhase | undefined) => phase === 'Succeeded' || phase === 'Failed';

const faultsArb = fc.record({
  errorRate: fc.double({ min: 0, max: 0.25, noNaN: true }),
  throttleRate: fc.double({ min: 0, max: 0.25, noNaN: true }),
  resetRate: fc.double({ min: 0, max: 0.1, noNaN: true }),
  latencyMs: fc.integer({ min: 0, max: 2 }),
});
type Faults = typeof faultsArb extends fc.Arbitrary<infer T> ? T : never;

const RUNS = { numRuns: 20 };

describe('cancel-migrations and pause safety, under faults', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  let api: KubeApi;
  let run = 0;
  before(async () => {
    handle = await startTestSimulator({ objects: { objects: [], logs: [] } });
    api = testApi(handle.kubeconfig);
  });
  after(async () => {
    api.close();
    await handle.stop();
  });

  async function setFaults(faults: Faults | Record<string, never>): Promise<void> {
    const response = await fetch(`${handle.sim.url}/sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
    assert.equal(response.status, 200);
  }

  /** Runs `fn` under `faults`, turning them off afterwards whatever happens. */
  async function underFaults<T>(faults: Faults, fn: () => Promise<T>): Promise<T> {
    await setFaults(faults);
    try {
      return await fn();
    } finally {
      await setFaults({});
    }
  }

  const raw = (resource: ResourceName, namespace: string, name: string) =>
    handle.sim.store.get(resource, namespace, name)?.body.toString('utf8');
  const decoded = <T extends KubeObject>(resource: ResourceName, namespace: string, name: string) => {
    const text = raw(resource, namespace, name);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  };

  /** Where an interrupted run stops (journal entries written first), and how it is resumed. */
  const interruptionArb = fc.option(
    fc.record({ after: fc.integer({ min: 0, max: 6 }), resume: fc.constantFrom('journal', 'replan') }),
    { nil: undefined },
  );
  type Interruption = typeof interruptionArb extends fc.Arbitrary<infer T> ? T : never;

  /**
   * Applies a step; when interrupted, aborts after that many journal entries (the targets in hand finish), then
   * resumes as the CLI does: the same plan with the journal's settled targets skipped, or a fresh plan.
   * Returns every journal entry of both runs.
   */
  async function applyResumed(
    executor: StepExecutor,
    step: PlanStep,
    interruption: Interruption,
    replan: () => Promise<PlanStep>,
  ): Promise<JournalEntry[]> {
    const controller = new AbortController();
    const first = memoryContext(api, { signal: controller.signal });
    const journal = first.journal;
    const abortingJournal: ApplyContext['journal'] = {
      async append(entry) {
        await journal.append(entry);
        if (interruption !== undefined && first.entries.length >= interruption.after) controller.abort();
      },
    };
    if (interruption?.after === 0) controller.abort();
    await executor(step, { ...first, journal: abortingJournal });
    if (interruption === undefined) return first.entries;
    if (interruption.resume === 'replan') {
      const second = memoryContext(api);
      await executor(await replan(), second);
      return [...first.entries, ...second.entries];
    }
    const settled = new Set(first.entries.map((entry) => targetKey(entry.step, entry)));
    const second = memoryContext(api, { settled });
    await executor(step, second);
    return [...first.entries, ...second.entries];
  }

  const vmimArb = fc.record({
    vmi: fc.integer({ min: 0, max: 2 }),
    phase: fc.constantFrom(...PHASES),
    otherNamespace: fc.boolean(),
    prefix: fc.constantFrom('', 'kubevirt-evacuation-', 'kubevirt-workload-update-'),
    finishesBeforeApply: fc.boolean(),
  });

  it('cancel-migrations deletes only in-flight vmims in scope, even when interrupted and resumed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vmimArb, { maxLength: 12 }),
        fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        faultsArb,
        interruptionArb,
        async (specs, vmiScope, faults, interruption) => {
          run += 1;
          const namespace = `cancel-${run}`;
          const elsewhere = `cancel-${run}-other`;
          const seeded = specs.map((spec, index) => ({
            ...spec,
            namespace: spec.otherNamespace ? elsewhere : namespace,
            name: `${spec.prefix}m${index}`,
            vmiName: `vmi-${spec.vmi}`,
          }));
          for (const spec of seeded) {
            handle.sim.store.put(
              'virtualmachineinstancemigrations',
              vmim(spec.namespace, spec.name, spec.vmiName, spec.phase),
            );
          }
          const scope = {
            namespace,
            ...(vmiScope === undefined ? {} : { vmi: `vmi-${vmiScope}` }),
          };
          const inScope = (spec: (typeof seeded)[number]) =>
            spec.namespace === namespace && (vmiScope === undefined || spec.vmi === vmiScope);

          await underFaults(faults, async () => {
            const plan = await planCancelMigrations(new LiveClusterReader(api), scope);
            assert.deepEqual(
              plan.step.targets.map((target) => target.name).sort(),
              seeded
                .filter((spec) => inScope(spec) && !isFinal(spec.phase))
                .map((spec) => spec.name)
                .sort(),
            );
            // Between the plan and the deletes, some planned migrations finish on their own.
            for (const spec of seeded) {
              if (!inScope(spec) || isFinal(spec.phase) || !spec.finishesBeforeApply) continue;
              const current = decoded<VirtualMachineInstanceMigration>(
                'virtualmachineinstancemigrations',
                spec.namespace,
                spec.name,
              ) as VirtualMachineInstanceMigration;
              const finished: VirtualMachineInstanceMigration = {
                ...current,
                status: { phase: 'Succeeded' },
              };
              handle.sim.store.update('virtualmachineinstancemigrations', finished);
              spec.phase = 'Succeeded';
            }
            const untouchable = new Map(
              seeded
                .filter((spec) => !inScope(spec) || isFinal(spec.phase))
                .map((spec) => [
                  spec.name,
                  raw('virtualmachineinstancemigrations', spec.namespace, spec.name),
                ]),
            );
            const journal = await applyResumed(
              cancelMigrations,
              plan.step,
              interruption,
              async () => (await planCancelMigrations(new LiveClusterReader(api), scope)).step,
            );
            assert.deepEqual(
              journal.filter((entry) => entry.outcome === 'failed' || entry.outcome === 'conflict'),
              [],
            );
            for (const spec of seeded) {
              const now = raw('virtualmachineinstancemigrations', spec.namespace, spec.name);
              if (untouchable.has(spec.name)) {
                assert.equal(now, untouchable.get(spec.name), `${spec.name} must not be touched`);
              } else {
                const object = JSON.parse(now as string) as VirtualMachineInstanceMigration;
                assert.ok(object.metadata.deletionTimestamp, `${spec.name} is in flight: cancelled`);
              }
            }
          });
        },
      ),
      RUNS,
    );
  });

  const runFieldArb = fc.oneof(
    fc.record({ runStrategy: fc.constantFrom('Always', 'Manual', 'RerunOnFailure', 'Once', 'Halted') }),
    fc.record({ running: fc.boolean() }),
  );
  const vmArb = fc.record({
    run: runFieldArb,
    annotations: fc.option(
      fc.dictionary(fc.constantFrom('owner', 'kubevirt.io/x', 'note'), fc.string({ maxLength: 6 }), {
        maxKeys: 2,
      }),
      { nil: undefined },
    ),
    failed: fc.integer({ min: 0, max: 3 }),
    /** Not ours: an annotation under our key that we did not write. */
    foreign: fc.boolean(),
    /** Started again by hand after the pause (before undo plans, or between its plan and its writes). */
    changedAfterPause: fc.constantFrom('no', 'beforePlan', 'beforeApply'),
  });

  it('pause then pause --undo restores every VM exactly, refuses the others, and survives interruption', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vmArb, { minLength: 1, maxLength: 8 }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        faultsArb,
        interruptionArb,
        interruptionArb,
        async (specs, minFailed, faults, pauseInterruption, undoInterruption) => {
          run += 1;
          const namespace = `pause-${run}`;
          const seeded = specs.map((spec, index) => {
            const object = vm({
              namespace,
              name: `vm-${index}`,
              run: spec.run,
              ...(spec.annotations === undefined && !spec.foreign
                ? {}
                : {
                    annotations: {
                      ...spec.annotations,
                      ...(spec.foreign ? { [PAUSED_FROM_ANNOTATION]: 'by hand' } : {}),
                    },
                  }),
            });
            handle.sim.store.put('virtualmachines', object);
            const vmi = vmiOf(object);
            handle.sim.store.put('virtualmachineinstances', vmi);
            const launchers = Array.from({ length: spec.failed }, (_, n) => launcherOf(vmi, `f${n}abc`));
            for (const pod of launchers) handle.sim.store.put('pods', pod);
            return {
              ...spec,
              name: object.metadata.name,
              launchers: launchers.map((pod) => pod.metadata.name),
            };
          });
          const original = new Map(
            seeded.map((spec) => [spec.name, raw('virtualmachines', namespace, spec.name)]),
          );
          const running = (spec: (typeof seeded)[number]) =>
            'runStrategy' in spec.run ? spec.run.runStrategy !== 'Halted' : spec.run.running;
          const paused = seeded.filter(
            (spec) => running(spec) && !spec.foreign && (minFailed === undefined || spec.failed >= minFailed),
          );
          const archived: string[] = [];
          const archive = async (pod: Pod) => {
            const owner = decoded<VirtualMachine>(
              'virtualmachines',
              namespace,
              pod.metadata.labels?.['vm.kubevirt.io/name'] ?? '',
            );
            assert.equal(
              owner?.metadata.annotations?.[PAUSED_FROM_ANNOTATION],
              undefined,
              'archived before the halt',
            );
            archived.push(pod.metadata.name);
          };

          await underFaults(faults, async () => {
            const plan = await planPause(new LiveClusterReader(api), { namespace, minFailed });
            assert.deepEqual(
              plan.step.targets.map((target) => target.name),
              paused.map((spec) => spec.name),
            );
            await applyResumed(
              makePauseExecutor({ archive }),
              plan.step,
              pauseInterruption,
              async () => (await planPause(new LiveClusterReader(api), { namespace, minFailed })).step,
            );
          });
          for (const spec of seeded) {
            const now = decoded<VirtualMachine>('virtualmachines', namespace, spec.name) as VirtualMachine;
            if (paused.includes(spec)) {
              assert.ok(
                now.spec.runStrategy === 'Halted' || now.spec.running === false,
                `${spec.name} halted`,
              );
              assert.equal(now.metadata.annotations?.[PAUSED_FROM_ANNOTATION], JSON.stringify(spec.run));
              for (const pod of spec.launchers) assert.ok(archived.includes(pod), `${pod} archived`);
            } else {
              assert.equal(raw('virtualmachines', namespace, spec.name), original.get(spec.name));
            }
          }

          // Some paused VMs are started again by hand: theirs now, undo must not take them back.
          const startByHand = (when: string) => {
            for (const spec of paused.filter((candidate) => candidate.changedAfterPause === when)) {
              const now = decoded<VirtualMachine>('virtualmachines', namespace, spec.name) as VirtualMachine;
              const started = structuredClone(now);
              delete started.spec.running;
              started.spec.runStrategy = 'Manual';
              handle.sim.store.update('virtualmachines', started);
            }
          };
          const restored = paused.filter((spec) => spec.changedAfterPause === 'no');
          startByHand('beforePlan');
          let beforeUndo = new Map<string, string | undefined>();

          await underFaults(faults, async () => {
            const undo = await planUnpause(new LiveClusterReader(api), { namespace });
            assert.deepEqual(
              undo.step.targets.map((target) => target.name),
              paused.filter((spec) => spec.changedAfterPause !== 'beforePlan').map((spec) => spec.name),
            );
            startByHand('beforeApply');
            beforeUndo = new Map(
              seeded.map((spec) => [spec.name, raw('virtualmachines', namespace, spec.name)]),
            );
            await applyResumed(
              unpauseVms,
              undo.step,
              undoInterruption,
              async () => (await planUnpause(new LiveClusterReader(api), { namespace })).step,
            );
          });
          for (const spec of seeded) {
            const now = decoded<VirtualMachine>('virtualmachines', namespace, spec.name) as VirtualMachine;
            if (restored.includes(spec)) {
              const before = JSON.parse(original.get(spec.name) as string) as VirtualMachine;
              assert.equal(JSON.stringify(now.spec.runStrategy), JSON.stringify(before.spec.runStrategy));
              assert.equal(JSON.stringify(now.spec.running), JSON.stringify(before.spec.running));
              assert.equal(
                JSON.stringify(now.metadata.annotations),
                JSON.stringify(before.metadata.annotations),
              );
            } else {
              assert.equal(
                raw('virtualmachines', namespace, spec.name),
                beforeUndo.get(spec.name),
                `${spec.name} refused`,
              );
            }
          }
        },
      ),
      RUNS,
    );
  });
});
