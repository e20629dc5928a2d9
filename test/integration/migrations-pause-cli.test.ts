// `stuckfailed cancel-migrations` and `stuckfailed pause` end to end through main() against the simulator over
// HTTP: a dry run writes nothing, --yes does exactly the plan, -o json, exit codes (0, 1, 2, 3), no scope is a
// usage error.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import type { KubeObject, VirtualMachine, VirtualMachineInstanceMigration } from '../../src/kube/types.js';
import { PAUSED_FROM_ANNOTATION } from '../../src/mitigation/pause.js';
import { startTestSimulator } from '../helpers/simulator.js';
import { launcherOf, objects, vm, vmim, vmiOf } from '../helpers/vm-fixtures.js';

/**
 * Namespace a: vmi-loop failed to migrate 3 times and is migrating again; vmi-calm has one Running migration and
 * one Succeeded. VMs: a/vm-1 (Always, 2 Failed launchers), a/vm-2 (running: true), b/vm-1 (Always).
 */
function cluster(): KubeObject[] {
  const vm1 = vm({ namespace: 'a', name: 'vm-1' });
  const vmi1 = vmiOf(vm1);
  return [
    vmim('a', 'loop-1', 'vmi-loop', 'Failed'),
    vmim('a', 'loop-2', 'vmi-loop', 'Failed'),
    vmim('a', 'loop-3', 'vmi-loop', 'Failed'),
    vmim('a', 'loop-4', 'vmi-loop', 'Scheduling'),
    vmim('a', 'calm-1', 'vmi-calm', 'Running'),
    vmim('a', 'calm-0', 'vmi-calm', 'Succeeded'),
    vm1,
    vmi1,
    launcherOf(vmi1, 'f0abc'),
    launcherOf(vmi1, 'f1abc'),
    vm({ namespace: 'a', name: 'vm-2', run: { running: true } }),
    vm({ namespace: 'b', name: 'vm-1' }),
  ];
}

describe('cancel-migrations and pause commands', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  let dir: string;
  before(async () => {
    handle = await startTestSimulator({ objects: objects(cluster()) });
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-cli-'));
  });
  after(async () => {
    await handle.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(...args: string[]) {
    const { io, stdout, stderr } = memoryIo();
    const code = await main([...args, '--kubeconfig', handle.kubeconfig], io);
    return { code, stdout: stdout(), stderr: stderr() };
  }
  const writes = () => {
    const { byVerb } = handle.sim.stats();
    return (byVerb.delete ?? 0) + (byVerb.patch ?? 0) + (byVerb.deletecollection ?? 0);
  };
  const vmimOf = (name: string) => {
    const stored = handle.sim.store.get('virtualmachineinstancemigrations', 'a', name);
    return stored && (JSON.parse(stored.body.toString('utf8')) as VirtualMachineInstanceMigration);
  };
  const vmOf = (namespace: string, name: string) => {
    const stored = handle.sim.store.get('virtualmachines', namespace, name);
    return JSON.parse(stored?.body.toString('utf8') ?? '{}') as VirtualMachine;
  };

  it('refuses to run without a scope (exit 2) and says how to choose one', async () => {
    for (const command of ['cancel-migrations', 'pause']) {
      const result = await run(command, '--yes');
      assert.equal(result.code, 2, command);
      assert.match(result.stderr, /needs a scope: choose -n NAMESPACE or -A/);
    }
    assert.equal((await run('pause', '-n', 'a', '--min-failed', '0')).code, 2);
    assert.equal((await run('pause', '-n', 'a', '--undo', '--min-failed', '2')).code, 2);
    // The hint of --undo offers only what --undo takes.
    const undo = await run('pause', '--undo', '--yes');
    assert.equal(undo.code, 2);
    assert.match(undo.stderr, /choose -n NAMESPACE or -A, --vm NAME, or -l SELECTOR\. It never/);
  });

  it('a dry run prints the plan, what it leaves and why, and writes nothing', async () => {
    const before = writes();
    const cancel = await run('cancel-migrations', '-n', 'a');
    assert.equal(cancel.code, 0);
    assert.match(cancel.stdout, /cancel-migrations: 2 virtualmachineinstancemigrations/);
    assert.match(cancel.stdout, /loop-4 -n a/);
    assert.match(cancel.stdout, /left 4 finished migration\(s\) alone \(1 Succeeded, 3 Failed\)/);
    assert.match(cancel.stdout, /dry run: nothing was written/);
    const pause = await run('pause', '-n', 'a', '-o', 'json');
    assert.equal(pause.code, 0);
    const plan = JSON.parse(pause.stdout) as { steps: Array<{ action: string; count: number }> };
    assert.deepEqual(
      plan.steps.map((step) => [step.action, step.count]),
      [['pause', 2]],
    );
    const server = await run('pause', '-n', 'a', '--dry-run', 'server', '--archive', join(dir, 'none'));
    assert.equal(server.code, 0);
    assert.match(server.stdout, /2 accepted \(dry run\)/);
    assert.equal(writes() - before, 2, 'only the two dryRun=All patches were sent');
    assert.equal(vmOf('a', 'vm-1').spec.runStrategy, 'Always');
    assert.equal(vmimOf('loop-4')?.metadata.deletionTimestamp, undefined);
  });

  it("--looping cancels only the looping VMI's in-flight migration, and -o json gives the outcome", async () => {
    const result = await run(
      'cancel-migrations',
      '-A',
      '--looping',
      '--yes',
      '-o',
      'json',
      '--journal',
      join(dir, 'cancel.jsonl'),
    );
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as {
      plan: { steps: Array<{ targets: Array<{ name: string }> }> };
      outcome: { steps: Array<{ counts: Record<string, number> }> };
    };
    assert.deepEqual(
      body.plan.steps[0]?.targets.map((target) => target.name),
      ['loop-4'],
    );
    assert.equal(body.outcome.steps[0]?.counts.done, 1);
    assert.ok(vmimOf('loop-4')?.metadata.deletionTimestamp);
    assert.equal(vmimOf('calm-1')?.metadata.deletionTimestamp, undefined);
    for (const name of ['loop-1', 'loop-2', 'loop-3', 'calm-0'])
      assert.equal(vmimOf(name)?.metadata.deletionTimestamp, undefined);
    const journal = (await readFile(join(dir, 'cancel.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(journal.length, 1);
  });

  it('pause --yes archives and halts; pause --undo --yes restores; undo of a VM not paused exits 1', async () => {
    const archive = join(dir, 'archive');
    const pause = await run(
      'pause',
      '-n',
      'a',
      '--yes',
      '--archive',
      archive,
      '--journal',
      join(dir, 'pause.jsonl'),
    );
    assert.equal(pause.code, 0, pause.stderr);
    assert.match(pause.stdout, /pause: 2 done/);
    assert.deepEqual((await readdir(join(archive, 'a'))).sort(), [
      'virt-launcher-vm-1-f0abc.yaml',
      'virt-launcher-vm-1-f1abc.yaml',
    ]);
    assert.equal(vmOf('a', 'vm-1').spec.runStrategy, 'Halted');
    assert.equal(vmOf('a', 'vm-2').spec.running, false);
    assert.equal(vmOf('b', 'vm-1').spec.runStrategy, 'Always', 'out of scope');

    const refused = await run('pause', '--undo', '--vm', 'vm-1', '-n', 'b', '--yes');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /refused: b\/vm-1 was not paused by stuckfailed/);
    const missing = await run('pause', '--undo', '--vm', 'no-such-vm', '-n', 'a', '--yes');
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /no VM named no-such-vm in scope/);

    const undo = await run('pause', '--undo', '-n', 'a', '--yes', '--journal', join(dir, 'undo.jsonl'));
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /pause: 2 done/);
    assert.equal(vmOf('a', 'vm-1').spec.runStrategy, 'Always');
    assert.equal(vmOf('a', 'vm-2').spec.running, true);
    assert.equal(vmOf('a', 'vm-2').spec.runStrategy, undefined);
    assert.equal(vmOf('a', 'vm-1').metadata.annotations?.[PAUSED_FROM_ANNOTATION], undefined);
  });

  it('Ctrl-C mid-run stops after the writes in flight (exit 1); the same command with its journal finishes', async () => {
    for (let index = 0; index < 8; index += 1) {
      handle.sim.store.put('virtualmachines', vm({ namespace: 'c', name: `vm-${index}` }));
    }
    const journal = join(dir, 'interrupted.jsonl');
    const args = ['pause', '-n', 'c', '--yes', '--no-archive', '--journal', journal, '--max-in-flight', '1'];
    const { io, stdout, stderr } = memoryIo();
    let interrupt = () => {};
    io.waitForInterrupt = () => new Promise<void>((resolve) => (interrupt = resolve));
    // The first VM halted is the moment Ctrl-C comes.
    const unsubscribe = handle.sim.store.subscribe('virtualmachines', () => interrupt());
    const code = await main([...args, '--kubeconfig', handle.kubeconfig], io);
    unsubscribe();
    assert.equal(code, 1, stderr());
    assert.match(stderr(), /interrupted: stopping after the writes in flight/);
    assert.match(stderr(), /run the same command again to finish/);
    const halted = () =>
      Array.from({ length: 8 }, (_, index) => vmOf('c', `vm-${index}`)).filter(
        (object) => object.spec.runStrategy === 'Halted',
      ).length;
    const first = halted();
    assert.ok(first >= 1 && first < 8, `${first} of 8 halted before the stop (${stdout()})`);

    const resumed = await run(...args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming from the journal/);
    assert.equal(halted(), 8);
    for (let index = 0; index < 8; index += 1) {
      assert.equal(
        vmOf('c', `vm-${index}`).metadata.annotations?.[PAUSED_FROM_ANNOTATION],
        '{"runStrategy":"Always"}',
      );
    }
  });

  it('exits 3 when the API server cannot be reached', async () => {
    const closed = await startTestSimulator({ objects: objects([]) });
    const kubeconfig = join(dir, 'closed-kubeconfig');
    await closed.sim.writeKubeconfig(kubeconfig);
    await closed.stop();
    const { io, stderr } = memoryIo();
    const code = await main(['cancel-migrations', '-n', 'a', '--kubeconfig', kubeconfig], io);
    assert.equal(code, 3);
    assert.match(stderr(), /cannot reach the API server/);
  });
});
