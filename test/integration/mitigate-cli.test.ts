// `stuckfailed mitigate` end to end through main() against the simulator over HTTP (migration-storm): the dry run
// writes nothing and -o json is the DESIGN §4 plan; --yes cancels exactly the looping VMIs' in-flight migrations,
// cleans every Failed launcher with its archive, and validates.
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import type { Pod, VirtualMachineInstanceMigration } from '../../src/kube/types.js';
import { startTestSimulator } from '../helpers/simulator.js';

const FINAL = new Set(['Succeeded', 'Failed']);

describe('mitigate against a migration storm', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  before(async () => {
    handle = await startTestSimulator({ scenario: 'migration-storm', failed: 250, seed: 11 });
  });
  after(async () => {
    await handle.stop();
  });

  async function run(...args: string[]) {
    const { io, stdout, stderr } = memoryIo();
    const code = await main([...args, '--kubeconfig', handle.kubeconfig], io);
    return { code, stdout: stdout(), stderr: stderr() };
  }
  const writes = () => {
    const { byVerb } = handle.sim.stats();
    return Object.entries(byVerb)
      .filter(([verb]) => !['get', 'list', 'watch'].includes(verb))
      .reduce((sum, [, count]) => sum + count, 0);
  };
  const stored = <T>(resource: 'pods' | 'virtualmachineinstancemigrations'): T[] =>
    [...handle.sim.store.objects(resource)].map((object) => JSON.parse(object.body.toString('utf8')) as T);
  const failedLaunchers = () =>
    stored<Pod>('pods').filter(
      (pod) => pod.status?.phase === 'Failed' && pod.metadata.labels?.['kubevirt.io'] === 'virt-launcher',
    );

  /** Worked out from the store, not by the code under test: VMIs with 3+ Failed vmims, and their vmims in flight. */
  function loopingInFlight(): { looping: string[]; other: string[]; finished: string[] } {
    const vmims = stored<VirtualMachineInstanceMigration>('virtualmachineinstancemigrations');
    const failedPerVmi = new Map<string, number>();
    for (const vmim of vmims) {
      if (vmim.status?.phase !== 'Failed') continue;
      const key = `${vmim.metadata.namespace}/${vmim.spec.vmiName}`;
      failedPerVmi.set(key, (failedPerVmi.get(key) ?? 0) + 1);
    }
    const name = (vmim: VirtualMachineInstanceMigration) =>
      `${vmim.metadata.namespace}/${vmim.metadata.name}`;
    const inFlight = vmims.filter((vmim) => !FINAL.has(vmim.status?.phase ?? ''));
    const loops = (vmim: VirtualMachineInstanceMigration) =>
      (failedPerVmi.get(`${vmim.metadata.namespace}/${vmim.spec.vmiName}`) ?? 0) >= 3;
    return {
      looping: inFlight.filter(loops).map(name).sort(),
      other: inFlight
        .filter((vmim) => !loops(vmim))
        .map(name)
        .sort(),
      finished: vmims
        .filter((vmim) => FINAL.has(vmim.status?.phase ?? ''))
        .map(name)
        .sort(),
    };
  }

  it('refuses to run without a scope (exit 2)', async () => {
    const result = await run('mitigate', '--yes');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /mitigate needs a scope: choose -n NAMESPACE for one namespace, or -A/);
  });

  it('a dry run prints the plan and why each step is there, and writes nothing', async () => {
    const before = writes();
    const result = await run('mitigate', '-A');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^1\. cancel-migrations: \d+ virtualmachineinstancemigrations?$/m);
    assert.match(
      result.stdout,
      /^ {3}why: stop the loop: cancel the in-flight migrations of \d+ VMI\(s\) in a migration loop .*\(cause: migration\)$/m,
    );
    assert.match(result.stdout, /^2\. clean: 250 pods$/m);
    assert.match(result.stdout, /^3\. validate: wait for the alert to clear/m);
    assert.match(result.stdout, /dry run: nothing was written/);
    assert.equal(writes(), before, 'no write of any verb');
    assert.equal(failedLaunchers().length, 250);
  });

  it('-o json gives the plan in the DESIGN §4 shape', async () => {
    const before = writes();
    const result = await run('mitigate', '-A', '-o', 'json', '--window', '2m', '--keep-per-vmi', '1');
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(plan).sort(), [
      'createdAt',
      'digest',
      'schemaVersion',
      'scope',
      'steps',
      'untouched',
    ]);
    assert.equal(plan.schemaVersion, 1);
    assert.match(String(plan.digest), /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(plan.scope, { namespaces: 'all' });
    assert.deepEqual(plan.untouched, []);
    const steps = plan.steps as Array<Record<string, unknown>>;
    assert.deepEqual(
      steps.map((step) => step.action),
      ['cancel-migrations', 'clean', 'validate'],
    );
    for (const step of steps) {
      assert.deepEqual(Object.keys(step).sort(), ['action', 'caps', 'count', 'id', 'reason', 'targets']);
      const reason = step.reason as Record<string, unknown>;
      assert.deepEqual(Object.keys(reason).sort(), ['cause', 'summary']);
      assert.equal(reason.cause, 'migration');
      const targets = step.targets as Array<Record<string, unknown>>;
      assert.equal(step.count, targets.length);
      for (const target of targets)
        assert.deepEqual(Object.keys(target).sort(), ['kind', 'name', 'namespace', 'uid']);
    }
    assert.deepEqual(
      ((steps[0]?.targets ?? []) as Array<{ namespace: string; name: string }>)
        .map((t) => `${t.namespace}/${t.name}`)
        .sort(),
      loopingInFlight().looping,
    );
    assert.equal(steps[1]?.caps && (steps[1].caps as Record<string, unknown>).keepPerVmi, 1);
    assert.ok((steps[1]?.count as number) < 250, 'the newest launcher of each VMI is kept');
    assert.deepEqual(steps[2]?.caps, { threshold: 200, windowMs: 120_000, timeoutMs: 360_000 });
    assert.equal(writes(), before);
  });

  it('--yes cancels the looping VMIs in-flight migrations only, cleans with archive, and validates', async (t) => {
    const expected = loopingInFlight();
    assert.ok(expected.looping.length > 0, 'the storm has looping VMIs with a migration queued');
    assert.ok(expected.other.length > 0, 'and other migrations in flight, which are not in a loop');
    const archive = join(handle.dir, 'archive');
    t.after(() => rm(archive, { recursive: true, force: true }));
    const result = await run('mitigate', '-A', '--yes', '-o', 'json', '--archive', archive, '--window', '1s');
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as {
      plan: { steps: Array<{ action: string; count: number }> };
      outcome: { interrupted: boolean; steps: Array<{ action: string; counts: Record<string, number> }> };
    };
    assert.equal(body.outcome.interrupted, false);
    const counts = Object.fromEntries(body.outcome.steps.map((step) => [step.action, step.counts]));
    assert.equal(counts['cancel-migrations']?.done, expected.looping.length);
    assert.equal(counts.clean?.done, 250);
    assert.equal(counts.validate?.done, 1, 'validate cleared');

    const vmims = new Map(
      stored<VirtualMachineInstanceMigration>('virtualmachineinstancemigrations').map((vmim) => [
        `${vmim.metadata.namespace}/${vmim.metadata.name}`,
        vmim,
      ]),
    );
    for (const name of expected.looping)
      assert.ok(vmims.get(name)?.metadata.deletionTimestamp, `${name} cancelled`);
    for (const name of [...expected.other, ...expected.finished]) {
      assert.ok(vmims.has(name), `${name} kept`);
      assert.equal(vmims.get(name)?.metadata.deletionTimestamp, undefined, `${name} untouched`);
    }
    assert.equal(failedLaunchers().length, 0);
    const files: string[] = [];
    for (const namespace of await readdir(archive)) {
      for (const file of await readdir(join(archive, namespace))) files.push(join(archive, namespace, file));
    }
    assert.equal(files.length, 250, 'one archive file per deleted pod');
    // YAML documents (written as JSON, which is YAML 1.2): the pod first, then its events.
    const [pod] = parseAllDocuments(await readFile(files[0] ?? '', 'utf8')).map((document) =>
      document.toJS(),
    );
    assert.equal(pod?.kind, 'Pod');
    assert.equal(pod?.status?.phase, 'Failed');
    const journal = (await readFile(`${archive}.journal.jsonl`, 'utf8')).trim().split('\n');
    assert.equal(
      journal.length,
      expected.looping.length + 250 + 1,
      'one entry per action, validate included',
    );
  });
});
