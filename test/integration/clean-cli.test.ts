// `stuckfailed clean` through the CLI (main(), as src/bin runs it) against the simulator: the contract of every
// writing command (DESIGN §4) on the first one: dry run by default, a scope required, server-side dry run, exit
// codes 0 / 1 / 2 / 3, the missing RBAC rule named, --no-archive said loudly, progress silent off a terminal.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import type { KubeObject, Pod } from '../../src/kube/types.js';
import type { Plan } from '../../src/mitigation/plan.js';
import { launcherPod, podEvent } from '../helpers/cluster-fixtures.js';
import { runProcess } from '../helpers/run-process.js';
import { startTestSimulator } from '../helpers/simulator.js';

function cluster(): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const namespace of ['vms-0', 'vms-1']) {
    for (let index = 0; index < 3; index += 1) {
      const pod = launcherPod({
        namespace,
        name: `virt-launcher-vm${index}-abcde`,
        uid: `${namespace}-${index}`,
      });
      objects.push(pod, podEvent(pod, 'BackOff', 'Back-off restarting failed container'));
    }
    objects.push(launcherPod({ namespace, name: 'virt-launcher-running-abcde', phase: 'Running' }));
    // Named like a launcher, labelled like one, but Succeeded; and a Failed pod that only looks like one.
    objects.push(launcherPod({ namespace, name: 'virt-launcher-done-abcde', phase: 'Succeeded' }));
    const impostor = launcherPod({ namespace, name: 'virt-launcher-impostor-abcde' });
    delete impostor.metadata.labels?.['kubevirt.io'];
    objects.push(impostor);
  }
  return objects;
}

async function run(args: string[]) {
  const memory = memoryIo();
  const code = await main(args, memory.io);
  return { code, stdout: memory.stdout(), stderr: memory.stderr() };
}

function podNames(handle: Awaited<ReturnType<typeof startTestSimulator>>, namespace: string): string[] {
  return handle.sim.store
    .list('pods', { namespace })
    .items.map((item) => item.name)
    .sort();
}

describe('stuckfailed clean (CLI)', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-clean-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const fresh = async () => {
    await handle?.stop();
    handle = await startTestSimulator({ objects: { objects: cluster(), logs: [] } });
    return handle;
  };
  after(async () => {
    await handle?.stop();
  });

  it('without a scope is a usage error (exit 2) that says how to choose one, and writes nothing', async () => {
    const sim = await fresh();
    const result = await run(['clean', '--kubeconfig', sim.kubeconfig, '--yes']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /clean needs a scope: choose -n NAMESPACE .* or -A/);
    assert.equal(sim.sim.stats().byVerb.delete ?? 0, 0);
  });

  it('a selector the API server would refuse is a usage error (exit 2) naming -l, before any request', async () => {
    const sim = await fresh();
    const result = await run(['clean', '--kubeconfig', sim.kubeconfig, '-A', '-l', 'tier in (db', '--yes']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /'-l, --selector <selector>' argument 'tier in \(db' is invalid\. unable to parse requirement/,
    );
    assert.equal(sim.sim.stats().requests, 0);
  });

  it('by default prints the plan and deletes nothing', async () => {
    const sim = await fresh();
    const result = await run(['clean', '--kubeconfig', sim.kubeconfig, '-n', 'vms-0']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /clean: 3 pods/);
    assert.match(result.stdout, /dry run: nothing was written/);
    assert.equal(sim.sim.stats().byVerb.delete ?? 0, 0);
    assert.equal(podNames(sim, 'vms-0').length, 6);
  });

  it('-o json prints the plan: exactly the Failed launchers of the namespace, with their uids', async () => {
    const sim = await fresh();
    const result = await run(['clean', '--kubeconfig', sim.kubeconfig, '-n', 'vms-1', '-o', 'json']);
    const plan = JSON.parse(result.stdout) as Plan;
    assert.equal(plan.schemaVersion, 1);
    assert.match(plan.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(plan.scope, { namespaces: ['vms-1'] });
    assert.deepEqual(
      plan.steps[0]?.targets.map((target) => target.uid),
      ['vms-1-0', 'vms-1-1', 'vms-1-2'],
    );
  });

  it("takes kubectl's global flags before the command too (stuckfailed --kubeconfig K -n NS clean)", async () => {
    const sim = await fresh();
    const result = await run(['--kubeconfig', sim.kubeconfig, '-n', 'vms-1', 'clean', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as Plan;
    assert.deepEqual(plan.scope, { namespaces: ['vms-1'] });
    assert.equal(plan.steps[0]?.targets.length, 3);
  });

  it('draws a bar with rate and ETA on a terminal, and nothing of it off one', async () => {
    const sim = await fresh();
    const quiet = await run([
      'clean',
      '--kubeconfig',
      sim.kubeconfig,
      '-n',
      'vms-0',
      '--yes',
      '--archive',
      join(dir, 'quiet'),
    ]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /ETA/);
    assert.equal(quiet.stderr.includes('\u001b['), false, 'no cursor control off a terminal');
    // script(1) gives the CLI a pseudo-terminal, as an operator's shell does.
    const root = new URL('../../', import.meta.url).pathname;
    const command = [process.execPath, '--import', 'tsx', 'src/bin/stuckfailed.ts']
      .concat([
        'clean',
        '--kubeconfig',
        sim.kubeconfig,
        '-n',
        'vms-1',
        '--yes',
        '--archive',
        join(dir, 'tty'),
      ])
      .map((word) => `'${word}'`)
      .join(' ');
    const terminal = await runProcess('script', ['-qec', command, '/dev/null'], { cwd: root });
    assert.equal(terminal.code, 0, terminal.stdout);
    assert.match(terminal.stdout, /clean \S+ 0\/3 \| 0\/s \| ETA/);
    assert.match(terminal.stdout, /clean \S+ 3\/3 \| \d+\/s \| ETA 0s/);
    assert.match(terminal.stdout, /clean: 3 done/);
  });

  it('--dry-run=server sends each DELETE with dryRun=All: answered, nothing deleted, nothing journaled', async () => {
    const sim = await fresh();
    const journal = join(dir, 'server-dry-run.jsonl');
    const result = await run([
      'clean',
      '--kubeconfig',
      sim.kubeconfig,
      '-A',
      '--dry-run=server',
      '--journal',
      journal,
      '--archive',
      join(dir, 'server-dry-run'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /clean: 6 accepted \(dry run\)/);
    assert.match(result.stdout, /archive: none: under --dry-run=server the server deletes nothing/);
    assert.equal(sim.sim.stats().byVerb.delete, 6);
    assert.equal(podNames(sim, 'vms-0').length, 6);
    assert.equal(existsSync(journal), false);
    assert.equal(existsSync(join(dir, 'server-dry-run')), false);
  });

  it('--yes -A deletes the six Failed launchers, archives each with its events, and says where', async () => {
    const sim = await fresh();
    const archive = join(dir, 'archive-yes');
    const result = await run(['clean', '--kubeconfig', sim.kubeconfig, '-A', '--yes', '--archive', archive]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /clean: 6 done/);
    for (const namespace of ['vms-0', 'vms-1']) {
      assert.deepEqual(podNames(sim, namespace), [
        'virt-launcher-done-abcde',
        'virt-launcher-impostor-abcde',
        'virt-launcher-running-abcde',
      ]);
      const files = (await readdir(join(archive, namespace))).sort();
      assert.deepEqual(files, [
        'virt-launcher-vm0-abcde.yaml',
        'virt-launcher-vm1-abcde.yaml',
        'virt-launcher-vm2-abcde.yaml',
      ]);
      const text = await readFile(join(archive, namespace, 'virt-launcher-vm0-abcde.yaml'), 'utf8');
      assert.match(text, /"kind": "Pod"/);
      assert.match(text, /"kind": "Event"[\s\S]*Back-off restarting failed container/);
    }
    // Events are read once per namespace, not once per pod.
    assert.equal(sim.sim.stats().byResource.events, 2);
    // Pods are listed once, by the plan, whose pods the executor reuses; then six DELETEs.
    assert.equal(sim.sim.stats().byResource.pods, 1 + 6);
    const journal = (await readFile(`${archive}.journal.jsonl`, 'utf8')).trim().split('\n');
    assert.equal(journal.length, 6);
    assert.match(result.stdout, new RegExp(`journal: ${archive}\\.journal\\.jsonl`));
  });

  it('--keep-per-vmi 1 keeps the newest launcher of each VMI', async () => {
    const sim = await fresh();
    const objects: KubeObject[] = [];
    for (const [index, finishedAt] of [
      '2026-01-01T00:00:00Z',
      '2026-01-01T01:00:00Z',
      '2026-01-01T00:30:00Z',
    ].entries()) {
      const pod: Pod = launcherPod({
        namespace: 'keep',
        name: `virt-launcher-web-${index}abcd`,
        uid: `keep-${index}`,
      });
      pod.metadata.ownerReferences = [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          name: 'web',
          uid: 'vmi-web',
          controller: true,
        },
      ];
      const compute = pod.status?.containerStatuses?.[0]?.state?.terminated;
      if (compute) compute.finishedAt = finishedAt;
      objects.push(pod);
    }
    for (const object of objects) sim.sim.store.put('pods', object);
    const result = await run([
      'clean',
      '--kubeconfig',
      sim.kubeconfig,
      '-n',
      'keep',
      '--keep-per-vmi',
      '1',
      '--yes',
      '--no-archive',
      // With no archive the journal defaults to the working directory: keep it in the test's folder.
      '--journal',
      join(dir, 'keep.journal.jsonl'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /WARNING: --no-archive/);
    assert.match(result.stdout, /kept 1 as evidence/);
    assert.deepEqual(podNames(sim, 'keep'), ['virt-launcher-web-1abcd']);
  });

  it('--older-than rejects a bad duration as a usage error', async () => {
    const sim = await fresh();
    const result = await run(['clean', '--kubeconfig', sim.kubeconfig, '-A', '--older-than', '10 minutes']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /expected a duration such as 10m, 90s or 1h30m/);
  });

  it('exit 1, listing the pod, when a planned pod was replaced before its DELETE (409: left alone)', async () => {
    const sim = await fresh();
    const archive = join(dir, 'archive-conflict');
    // Once the first pod is deleted, vm2 is replaced by a new pod of the same name: its DELETE, sent later with the
    // planned uid as precondition, must fail with 409; the pod read again is the new one, which is left alone.
    let replaced = false;
    const unsubscribe = sim.sim.store.subscribe('pods', (event) => {
      if (replaced || event.type !== 'DELETED') return;
      replaced = true;
      queueMicrotask(() => {
        const fresh = launcherPod({
          namespace: 'vms-0',
          name: 'virt-launcher-vm2-abcde',
          uid: 'replacement',
        });
        sim.sim.store.put('pods', fresh);
      });
    });
    try {
      const memory = memoryIo();
      const code = await main(
        [
          'clean',
          '--kubeconfig',
          sim.kubeconfig,
          '-n',
          'vms-0',
          '--yes',
          '--archive',
          archive,
          '--max-in-flight',
          '1',
        ],
        memory.io,
      );
      assert.equal(code, 1, memory.stderr());
      assert.match(memory.stdout(), /clean: 2 done, 1 changed since the plan \(left alone\)/);
      assert.match(
        memory.stdout(),
        /not done \(1\):\n {2}conflict: pod\/virt-launcher-vm2-abcde -n vms-0: replaced since the plan: a new pod of the same name \(uid replacement\) is left alone/,
      );
      assert.equal(sim.sim.store.get('pods', 'vms-0', 'virt-launcher-vm2-abcde')?.uid, 'replacement');
    } finally {
      unsubscribe();
    }
  });
});

describe('stuckfailed clean forbidden (CLI, HTTPS)', () => {
  it('exit 3, naming the missing RBAC rule, when the identity may read but not delete', async () => {
    const handle = await startTestSimulator({
      tls: true,
      objects: { objects: cluster(), logs: [] },
      tokens: { 'viewer-token': { user: 'viewer', readOnly: true } },
    });
    const dir = await mkdtemp(join(tmpdir(), 'stuckfailed-clean-rbac-'));
    try {
      const kubeconfig = join(dir, 'viewer');
      await handle.sim.writeKubeconfig(kubeconfig, { token: 'viewer-token' });
      const result = await run([
        'clean',
        '--kubeconfig',
        kubeconfig,
        '-n',
        'vms-0',
        '--yes',
        '--archive',
        join(dir, 'a'),
      ]);
      assert.equal(result.code, 3, result.stderr);
      // Asked before the first write (SelfSubjectAccessReview): refused whole, with nothing archived or journaled.
      assert.match(
        result.stderr,
        /so none of it was started; the missing RBAC rules:\n {2}- verb "delete" on "pods" \(API group ""\) in namespace "vms-0"\n/,
      );
      assert.deepEqual(await readdir(dir), ['viewer']);
      assert.equal(handle.sim.store.list('pods', { namespace: 'vms-0' }).items.length, 6);
    } finally {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
