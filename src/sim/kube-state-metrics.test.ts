import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Pod } from '../kube/types.js';
import { KUBE_STATE_METRICS_FAMILIES, writeKubeStateMetrics } from './kube-state-metrics.js';

function render(pods: Iterable<Pod>): string {
  let text = '';
  writeKubeStateMetrics(pods, (chunk) => {
    text += chunk;
  });
  return text;
}

function seriesOf(text: string, family: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${family}{`));
}

// An OOM-killed migration target: compute terminated with OOMKilled, the console log container Completed, an init
// container Completed, and one container that had restarted once (lastState), which launchers normally never do.
const failedLauncher: Pod = {
  metadata: {
    name: 'virt-launcher-rhel9-web-01-z6nkg',
    namespace: 'vms',
    uid: 'd93d850d-ffa1-46e4-a82c-e4b34f1b8393',
    labels: { 'kubevirt.io': 'virt-launcher' },
    ownerReferences: [
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachineInstance',
        name: 'rhel9-web-01',
        uid: 'u',
        controller: true,
      },
    ],
  },
  spec: {
    nodeName: 'worker-1',
    containers: [{ name: 'compute' }, { name: 'guest-console-log' }],
    initContainers: [{ name: 'container-disk-binary' }],
    restartPolicy: 'Never',
  },
  status: {
    phase: 'Failed',
    reason: 'Evicted',
    hostIP: '10.0.128.233',
    podIP: '10.129.207.36',
    containerStatuses: [
      { name: 'compute', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
      {
        name: 'guest-console-log',
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      },
    ],
    initContainerStatuses: [
      { name: 'container-disk-binary', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ],
  },
};

const pendingPod: Pod = {
  metadata: { name: 'web "quoted"\\back', namespace: 'default', uid: 'u2' },
  spec: { containers: [{ name: 'web' }], hostNetwork: true, priorityClassName: 'high' },
  status: {
    phase: 'Pending',
    containerStatuses: [
      { name: 'web', state: { waiting: { reason: 'ImagePullBackOff', message: 'line1\nline2' } } },
    ],
  },
};

const unsetPhasePod: Pod = {
  metadata: { name: 'just-created', namespace: 'default', uid: 'u3' },
  spec: { containers: [] },
};

describe('kube-state-metrics series', () => {
  const text = render([failedLauncher, pendingPod, unsetPhasePod]);
  const id =
    'namespace="vms",pod="virt-launcher-rhel9-web-01-z6nkg",uid="d93d850d-ffa1-46e4-a82c-e4b34f1b8393"';

  it('writes every family once, with HELP and TYPE, in order', () => {
    const help = text.split('\n').filter((line) => line.startsWith('# HELP '));
    assert.deepEqual(
      help.map((line) => line.split(' ')[2]),
      [...KUBE_STATE_METRICS_FAMILIES],
    );
    assert.ok(
      text.includes(
        '# HELP kube_pod_status_phase [STABLE] The pods current phase.\n# TYPE kube_pod_status_phase gauge\n',
      ),
    );
    assert.ok(text.includes('# HELP kube_pod_status_reason The pod status reasons\n'));
  });

  it('writes five phase series per pod, 1 for the current one, and none while the phase is unset', () => {
    assert.deepEqual(
      seriesOf(text, 'kube_pod_status_phase').filter((line) => line.includes('z6nkg')),
      ['Pending 0', 'Succeeded 0', 'Failed 1', 'Unknown 0', 'Running 0'].map((pair) => {
        const [phase, value] = pair.split(' ');
        return `kube_pod_status_phase{${id},phase="${phase}"} ${value}`;
      }),
    );
    assert.equal(
      seriesOf(text, 'kube_pod_status_phase').filter((line) => line.includes('just-created')).length,
      0,
    );
  });

  it('writes kube_pod_info and kube_pod_owner with their label sets, <none> for a pod without owner', () => {
    assert.deepEqual(
      seriesOf(text, 'kube_pod_info')[0],
      `kube_pod_info{${id},host_ip="10.0.128.233",pod_ip="10.129.207.36",node="worker-1",created_by_kind="VirtualMachineInstance",created_by_name="rhel9-web-01",priority_class="",host_network="false"} 1`,
    );
    assert.deepEqual(seriesOf(text, 'kube_pod_owner'), [
      `kube_pod_owner{${id},owner_kind="VirtualMachineInstance",owner_name="rhel9-web-01",owner_is_controller="true"} 1`,
      'kube_pod_owner{namespace="default",pod="web \\"quoted\\"\\\\back",uid="u2",owner_kind="<none>",owner_name="<none>",owner_is_controller="<none>"} 1',
      'kube_pod_owner{namespace="default",pod="just-created",uid="u3",owner_kind="<none>",owner_name="<none>",owner_is_controller="<none>"} 1',
    ]);
  });

  it('writes one kube_pod_status_reason series per listed reason, 1 for the pod reason or a terminated reason', () => {
    const reasons = seriesOf(text, 'kube_pod_status_reason').filter((line) => line.includes('z6nkg'));
    assert.equal(reasons.length, 8);
    assert.deepEqual(
      reasons.filter((line) => line.endsWith(' 1')),
      [`kube_pod_status_reason{${id},reason="Evicted"} 1`],
    );
  });

  it('writes container reasons only for containers in that state, last-terminated ones only after a restart', () => {
    assert.deepEqual(seriesOf(text, 'kube_pod_container_status_terminated_reason'), [
      `kube_pod_container_status_terminated_reason{${id},container="compute",reason="OOMKilled"} 1`,
      `kube_pod_container_status_terminated_reason{${id},container="guest-console-log",reason="Completed"} 1`,
    ]);
    assert.deepEqual(seriesOf(text, 'kube_pod_container_status_last_terminated_reason'), [
      `kube_pod_container_status_last_terminated_reason{${id},container="guest-console-log",reason="Error"} 1`,
    ]);
    assert.deepEqual(seriesOf(text, 'kube_pod_container_status_last_terminated_exitcode'), [
      `kube_pod_container_status_last_terminated_exitcode{${id},container="guest-console-log"} 1`,
    ]);
    assert.deepEqual(seriesOf(text, 'kube_pod_init_container_status_terminated_reason'), [
      `kube_pod_init_container_status_terminated_reason{${id},container="container-disk-binary",reason="Completed"} 1`,
    ]);
    assert.deepEqual(seriesOf(text, 'kube_pod_container_status_waiting_reason'), [
      'kube_pod_container_status_waiting_reason{namespace="default",pod="web \\"quoted\\"\\\\back",uid="u2",container="web",reason="ImagePullBackOff"} 1',
    ]);
  });

  it('reads any iterable once, a generator included (the simulator streams parsed pods from its store)', () => {
    let reads = 0;
    function* once() {
      reads += 1;
      yield failedLauncher;
      yield pendingPod;
    }
    assert.equal(render(once()), render([failedLauncher, pendingPod]));
    assert.equal(reads, 1);
  });

  it('passes promtool check metrics', async () => {
    const pods = Array.from({ length: 300 }, (_, index) => ({
      ...failedLauncher,
      metadata: { ...failedLauncher.metadata, name: `virt-launcher-vm-${index}-abcde`, uid: `uid-${index}` },
    }));
    const exposition = render([...pods, pendingPod, unsetPhasePod]);
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.end(exposition);
    const timer = setTimeout(() => child.kill(), 20_000);
    try {
      assert.equal(await exited, 0, output);
      // promtool's linter passes gauges without a unit suffix and HELP texts as kube-state-metrics writes them.
      assert.equal(output.trim(), '');
    } finally {
      clearTimeout(timer);
      child.kill();
    }
  });
});
