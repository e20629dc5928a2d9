// DESIGN §6 safety invariants of cancel-migrations and pause, as properties over random clusters, against the real
// simulator over HTTP with random faults (500s, 429s with and without Retry-After, reset connections, latency,
// continue tokens that expire between two pages of a list) set through POST /sim/faults:
// - cancel-migrations deletes only in-flight vmims in scope, never a finished one (not even one that finished
//   between the plan and the delete);
// - pause then pause --undo restores every VM exactly (its run field and its annotations, byte for byte), and
//   pause archives each VM's Failed launchers before the halt deletes them;
// - undo refuses (never touches) VMs it did not pause, and VMs changed since it paused them;
// - a run interrupted at a random point (stopped in the process and resumed from its journal, or the CLI killed
//   with SIGKILL as a process of its own and run again) converges to the uninterrupted end state.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { KubeApi } from '../../src/cluster/kube-api.js';
import { loadKubeConfig } from '../../src/cluster/kube-config.js';
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
import type { Faults } from '../../src/sim/faults.js';
import { decodeObject, type StoreEvent } from '../../src/sim/store.js';
import { spawnCli } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { launcherOf, memoryContext, vm, vmim, vmiOf } from '../helpers/vm-fixtures.js';

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

// The in-process client below waits 5 ms at most whatever Retry-After says, so any value is cheap here. A continue
// token expires as soon as the simulator's clock has moved since it was handed out: a list past its first page
// mostly gets a 410 Expired, and goes on with the token it offers.
const faultsArb = fc.record({
  errorRate: fc.double({ min: 0, max: 0.25, noNaN: true }),
  throttleRate: fc.double({ min: 0, max: 0.25, noNaN: true }),
  retryAfterSeconds: fc.integer({ min: 0, max: 2 }),
  resetRate: fc.double({ min: 0, max: 0.1, noNaN: true }),
  latencyMs: fc.integer({ min: 0, max: 2 }),
  expireContinueAfterSeconds: fc.option(fc.constant(0), { nil: undefined }),
});

// The CLI as a process of its own retries as in production: each 500 and each 429 with Retry-After: 1 (what the
// apiserver always says) costs a second, so rates stay low. Its lists take 500 items a page: these clusters never
// reach a second page, and an expired continue token would change nothing.
const cliFaultsArb: fc.Arbitrary<Faults> = fc
  .tuple(
    fc.record({
      errorRate: fc.constantFrom(0, 0.05),
      resetRate: fc.constantFrom(0, 0.05),
      latencyMs: fc.constantFrom(0, 2),
    }),
    fc.oneof(
      {
        arbitrary: fc.record({ throttleRate: fc.constantFrom(0, 0.05), retryAfterSeconds: fc.constant(0) }),
        weight: 3,
      },
      {
        arbitrary: fc.record({ throttleRate: fc.constant(0.05), retryAfterSeconds: fc.constant(1) }),
        weight: 1,
      },
    ),
  )
  .map(([others, throttling]) => ({ ...others, ...throttling }));

const RUNS = { numRuns: 20, includeErrorInReport: true };
/** Each run starts the CLI as a process of its own: fewer runs than the in-process properties. */
const CLI_RUNS = { numRuns: 5, includeErrorInReport: true };

/**
 * testApi's client (vm-fixtures.ts), with lists of two items a page: the lists of these few objects span pages,
 * so that the planners and executors read past page boundaries, and continues that expire.
 */
function pagedTestApi(kubeconfig: string): KubeApi {
  const { kubeConfig } = loadKubeConfig({ kubeconfig, env: {} });
  return new KubeApi({
    kubeConfig,
    qps: 0,
    pageSize: 2,
    retry: { maxRetries: 30, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 5 },
  });
}

describe('cancel-migrations and pause safety, under faults', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  let api: KubeApi;
  /** Journals and archives of the CLI runs. */
  let dir: string;
  let run = 0;
  before(async () => {
    handle = await startTestSimulator({ objects: { objects: [], logs: [] } });
    api = pagedTestApi(handle.kubeconfig);
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-safety-'));
  });
  after(async () => {
    api.close();
    await handle.stop();
    await rm(dir, { recursive: true, force: true });
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

  /** Every vmim kept as it was (finished, or out of scope) is unchanged; every other one is being cancelled. */
  const assertOnlyInFlightCancelled = (
    seeded: ReadonlyArray<{ namespace: string; name: string }>,
    untouchable: ReadonlyMap<string, string | undefined>,
  ) => {
    for (const spec of seeded) {
      const now = raw('virtualmachineinstancemigrations', spec.namespace, spec.name);
      if (untouchable.has(spec.name)) {
        assert.equal(now, untouchable.get(spec.name), `${spec.name} must not be touched`);
      } else {
        const object = JSON.parse(now as string) as VirtualMachineInstanceMigration;
        assert.ok(object.metadata.deletionTimestamp, `${spec.name} is in flight: cancelled`);
      }
    }
  };

  /** The paused VMs are halted, their previous run field recorded; every other VM is exactly as it was. */
  const assertPausedExactly = <T extends { name: string; run: unknown }>(
    namespace: string,
    seeded: readonly T[],
    paused: readonly T[],
    original: ReadonlyMap<string, string | undefined>,
  ) => {
    for (const spec of seeded) {
      const now = decoded<VirtualMachine>('virtualmachines', namespace, spec.name) as VirtualMachine;
      if (paused.includes(spec)) {
        assert.ok(now.spec.runStrategy === 'Halted' || now.spec.running === false, `${spec.name} halted`);
        assert.equal(now.metadata.annotations?.[PAUSED_FROM_ANNOTATION], JSON.stringify(spec.run));
      } else {
        assert.equal(raw('virtualmachines', namespace, spec.name), original.get(spec.name));
      }
    }
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

  /**
   * Runs `stuckfailed ARGS` as a process of its own and kills it with SIGKILL once the simulator has seen `count`
   * of its writes to `resource` (the changes that `isWrite` picks): whatever it had in flight, journal line
   * included, is cut there.
   */
  async function killedAfter(
    count: number,
    resource: ResourceName,
    isWrite: (event: StoreEvent) => boolean,
    args: string[],
  ): Promise<void> {
    const child = spawnCli([...args, '--kubeconfig', handle.kubeconfig, '--qps', '0']);
    let writes = 0;
    const unsubscribe = handle.sim.store.subscribe(resource, (event) => {
      if (isWrite(event) && ++writes === count) child.child.kill('SIGKILL');
    });
    try {
      await new Promise((resolve) => child.child.once('exit', resolve));
    } finally {
      unsubscribe();
    }
    assert.equal(
      child.child.signalCode,
      'SIGKILL',
      `killed after ${count} write(s); stderr: ${child.stderr()}`,
    );
  }

  /** `stuckfailed ARGS` run again, as the operator does after the crash (in this process: quicker). */
  async function runAgain(args: string[]): Promise<{ code: number; stderr: string }> {
    const { io, stderr } = memoryIo();
    const code = await main([...args, '--kubeconfig', handle.kubeconfig, '--qps', '0'], io);
    return { code, stderr: stderr() };
  }

  const vmimArb = fc.record({
    vmi: fc.integer({ min: 0, max: 2 }),
    phase: fc.constantFrom(...PHASES),
    otherNamespace: fc.boolean(),
    prefix: fc.constantFrom('', 'kubevirt-evacuation-', 'kubevirt-workload-update-'),
    finishesBeforeApply: fc.boolean(),
  });

  type VmimSpec = typeof vmimArb extends fc.Arbitrary<infer T> ? T : never;

  /** Stores the vmims of `specs` in `namespace`, or `elsewhere` for those in another namespace. */
  function seedVmims(specs: VmimSpec[], namespace: string, elsewhere: string) {
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
    return seeded;
  }

  /** A vmim that a run did not finish yet finishes by itself (its phase Succeeded), as KubeVirt writes it. */
  function finish(namespace: string, name: string): void {
    const current = decoded<VirtualMachineInstanceMigration>(
      'virtualmachineinstancemigrations',
      namespace,
      name,
    ) as VirtualMachineInstanceMigration;
    const finished: VirtualMachineInstanceMigration = { ...current, status: { phase: 'Succeeded' } };
    handle.sim.store.update('virtualmachineinstancemigrations', finished);
  }

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
          const seeded = seedVmims(specs, namespace, `cancel-${run}-other`);
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
              finish(spec.namespace, spec.name);
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
            assertOnlyInFlightCancelled(seeded, untouchable);
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
  const vmFields = {
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
  };
  const vmArb = fc.record({
    ...vmFields,
    /** Started again by hand after the pause (before undo plans, or between its plan and its writes). */
    changedAfterPause: fc.constantFrom('no', 'beforePlan', 'beforeApply'),
  });
  type VmSpec = typeof vmArb extends fc.Arbitrary<infer T> ? T : never;

  /** Stores a VM for each spec in `namespace`, with its VMI and its Failed launchers. */
  function seedVms<T extends Omit<VmSpec, 'changedAfterPause'>>(specs: T[], namespace: string) {
    return specs.map((spec, index) => {
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
  }

  /** The VM has its run field and its annotations back exactly as they were (`before`, as stored). */
  function assertRestored(now: VirtualMachine, before: string | undefined): void {
    const was = JSON.parse(before as string) as VirtualMachine;
    assert.equal(
      JSON.stringify(now.spec.runStrategy),
      JSON.stringify(was.spec.runStrategy),
      now.metadata.name,
    );
    assert.equal(JSON.stringify(now.spec.running), JSON.stringify(was.spec.running), now.metadata.name);
    assert.equal(
      JSON.stringify(now.metadata.annotations),
      JSON.stringify(was.metadata.annotations),
      now.metadata.name,
    );
  }

  const running = (spec: Pick<VmSpec, 'run'>) =>
    'runStrategy' in spec.run ? spec.run.runStrategy !== 'Halted' : spec.run.running;

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
          const seeded = seedVms(specs, namespace);
          const original = new Map(
            seeded.map((spec) => [spec.name, raw('virtualmachines', namespace, spec.name)]),
          );
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
          assertPausedExactly(namespace, seeded, paused, original);
          for (const spec of paused) {
            for (const pod of spec.launchers) assert.ok(archived.includes(pod), `${pod} archived`);
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
              assertRestored(now, original.get(spec.name));
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

  it('cancel-migrations killed with SIGKILL at a random point, run again, cancels the in-flight vmims and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vmimArb, { minLength: 1, maxLength: 12 }),
        cliFaultsArb,
        fc.nat(),
        async (specs, faults, killAfter) => {
          run += 1;
          const namespace = `cancel-cli-${run}`;
          const seeded = seedVmims(specs, namespace, `cancel-cli-${run}-other`);
          const inFlight = seeded.filter((spec) => spec.namespace === namespace && !isFinal(spec.phase));
          fc.pre(inFlight.length > 0);
          const journal = join(dir, `${namespace}.journal.jsonl`);
          const args = ['cancel-migrations', '-n', namespace, '--yes', '--journal', journal];
          const cancelled = (event: StoreEvent) =>
            event.object.namespace === namespace &&
            decodeObject(event.object).metadata.deletionTimestamp !== undefined &&
            (event.previous === undefined ||
              decodeObject(event.previous).metadata.deletionTimestamp === undefined);
          await underFaults(faults, async () => {
            await killedAfter(
              1 + (killAfter % inFlight.length),
              'virtualmachineinstancemigrations',
              cancelled,
              args,
            );
            // While nothing runs, some of the migrations it did not cancel finish: the run again must keep them.
            for (const spec of inFlight) {
              const now = decoded<VirtualMachineInstanceMigration>(
                'virtualmachineinstancemigrations',
                namespace,
                spec.name,
              );
              if (spec.finishesBeforeApply && now?.metadata.deletionTimestamp === undefined) {
                finish(namespace, spec.name);
                spec.phase = 'Succeeded';
              }
            }
            const untouchable = new Map(
              seeded
                .filter((spec) => spec.namespace !== namespace || isFinal(spec.phase))
                .map((spec) => [
                  spec.name,
                  raw('virtualmachineinstancemigrations', spec.namespace, spec.name),
                ]),
            );
            const again = await runAgain(args);
            assert.equal(again.code, 0, again.stderr);
            assertOnlyInFlightCancelled(seeded, untouchable);
          });
        },
      ),
      CLI_RUNS,
    );
  });

  it('pause and pause --undo, each killed with SIGKILL at a random point and run again, halt and then restore every VM exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record(vmFields), { minLength: 1, maxLength: 6 }),
        cliFaultsArb,
        fc.nat(),
        fc.nat(),
        async (specs, faults, pauseKillAfter, undoKillAfter) => {
          run += 1;
          const namespace = `pause-cli-${run}`;
          const seeded = seedVms(specs, namespace);
          const paused = seeded.filter((spec) => running(spec) && !spec.foreign);
          fc.pre(paused.length > 0);
          const original = new Map(
            seeded.map((spec) => [spec.name, raw('virtualmachines', namespace, spec.name)]),
          );
          const archive = join(dir, `${namespace}-archive`);
          const pauseArgs = ['pause', '-n', namespace, '--yes', '--archive', archive];
          const undoArgs = ['pause', '--undo', '-n', namespace, '--yes'];
          const annotated = (stored: StoreEvent['object'] | undefined) =>
            stored !== undefined &&
            decodeObject(stored).metadata.annotations?.[PAUSED_FROM_ANNOTATION] !== undefined;
          const isPause = (event: StoreEvent) =>
            event.object.namespace === namespace && annotated(event.object) && !annotated(event.previous);
          const isRestore = (event: StoreEvent) =>
            event.object.namespace === namespace && !annotated(event.object) && annotated(event.previous);
          // The halt deletes a VM's Failed launchers (the simulator's virt-controller): each must be in the archive
          // by then, as that pod.
          const deletedLaunchers = new Map<string, boolean>();
          const unsubscribe = handle.sim.store.subscribe('pods', (event) => {
            if (event.type !== 'DELETED' || event.object.namespace !== namespace) return;
            const path = join(archive, namespace, `${event.object.name}.yaml`);
            const archived =
              existsSync(path) && readFileSync(path, 'utf8').includes(`"uid": "${event.object.uid}"`);
            deletedLaunchers.set(event.object.name, archived);
          });
          try {
            await underFaults(faults, async () => {
              const journal = ['--journal', join(dir, `${namespace}-pause.journal.jsonl`)];
              await killedAfter(1 + (pauseKillAfter % paused.length), 'virtualmachines', isPause, [
                ...pauseArgs,
                ...journal,
              ]);
              const again = await runAgain([...pauseArgs, ...journal]);
              assert.equal(again.code, 0, again.stderr);
            });
          } finally {
            unsubscribe();
          }
          assertPausedExactly(namespace, seeded, paused, original);
          assert.deepEqual(
            [...deletedLaunchers.keys()].sort(),
            paused.flatMap((spec) => spec.launchers).sort(),
            "exactly the halted VMs' launchers are gone",
          );
          for (const [pod, archived] of deletedLaunchers)
            assert.ok(archived, `${pod} archived before the halt`);

          const beforeUndo = new Map(
            seeded.map((spec) => [spec.name, raw('virtualmachines', namespace, spec.name)]),
          );
          await underFaults(faults, async () => {
            const journal = ['--journal', join(dir, `${namespace}-undo.journal.jsonl`)];
            await killedAfter(1 + (undoKillAfter % paused.length), 'virtualmachines', isRestore, [
              ...undoArgs,
              ...journal,
            ]);
            const again = await runAgain([...undoArgs, ...journal]);
            // The VMs with our annotation that we did not write are refused, and a refusal is exit 1.
            assert.equal(again.code, seeded.some((spec) => spec.foreign) ? 1 : 0, again.stderr);
          });
          for (const spec of seeded) {
            const now = decoded<VirtualMachine>('virtualmachines', namespace, spec.name) as VirtualMachine;
            if (paused.includes(spec)) assertRestored(now, original.get(spec.name));
            else assert.equal(raw('virtualmachines', namespace, spec.name), beforeUndo.get(spec.name));
          }
        },
      ),
      CLI_RUNS,
    );
  });
});
