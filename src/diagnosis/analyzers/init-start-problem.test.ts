import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CauseCategory } from '../types.js';
import { analyzeImage } from './analyze-image.js';
import { analyzeResources } from './analyze-resources.js';
import { analyzeStorage } from './analyze-storage.js';
import { analyzeUnknown } from './analyze-unknown.js';
import { attributeCauses } from './attribute-causes.js';
import { factsWith, podGroup } from './facts-fixture.js';
import { initStartProblem } from './init-start-problem.js';

// Init containers of launchers that the runtime could not create or start, with the runtimes' real wordings.

const START_ERROR_EXEC =
  'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "/usr/bin/cp": stat /usr/bin/cp: no such file or directory: unknown';

const TABLE: Array<{
  name: string;
  container: string;
  reason: string;
  exitCode?: number;
  message: string;
  expected: CauseCategory;
}> = [
  {
    name: 'CRI-O CreateContainerError: containers/storage lost a layer',
    container: 'volumecontainerdisk-init',
    reason: 'CreateContainerError',
    message: `error creating read-write layer with ID "${'a'.repeat(64)}": layer not known`,
    expected: 'image',
  },
  {
    name: 'containerd StartError (128): the binary is not in the image (kubevirt#17460 shape)',
    container: 'container-disk-binary',
    reason: 'StartError',
    exitCode: 128,
    message: START_ERROR_EXEC,
    expected: 'image',
  },
  {
    name: 'containerd CreateContainerError: a layer missing from the content store',
    container: 'volumecontainerdisk-init',
    reason: 'CreateContainerError',
    message:
      'failed to create containerd container: error unpacking image: failed to extract layer sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1: failed to get reader from content store: content digest sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1: not found',
    expected: 'image',
  },
  {
    name: 'ContainerCannotRun (cri-dockerd): an image built for another architecture',
    container: 'volumecontainerdisk-init',
    reason: 'ContainerCannotRun',
    exitCode: 128,
    message:
      'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "/usr/bin/container-disk": exec format error: unknown',
    expected: 'image',
  },
  {
    name: 'ContainerCannotRun (cri-dockerd): a volume cannot be mounted into the rootfs, disk full',
    container: 'volumecontainerdisk-init',
    reason: 'ContainerCannotRun',
    exitCode: 128,
    message:
      'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting "/var/lib/kubelet/pods/0b8e/volumes/kubernetes.io~empty-dir/container-disks" to rootfs at "/var/run/kubevirt-ephemeral-disks/container-disk-data/7c1d": mkdir /var/lib/docker/overlay2/9f/merged/var/run/kubevirt-ephemeral-disks: no space left on device: unknown',
    expected: 'storage',
  },
  {
    name: 'StartError: runc reports the init process OOM-killed (40M limit, kubevirt#2603)',
    container: 'volumecontainerdisk-init',
    reason: 'StartError',
    exitCode: 128,
    message:
      'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: container init was OOM-killed (memory limit too low?): unknown',
    expected: 'resources',
  },
  {
    name: 'StartError whose message names nothing known stays unknown, with what was seen',
    container: 'container-disk-binary',
    reason: 'StartError',
    exitCode: 128,
    message:
      'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: unable to apply apparmor profile: unknown',
    expected: 'unknown',
  },
];

describe('init containers that cannot start', () => {
  for (const row of TABLE) {
    it(`${row.name} -> ${row.expected}`, () => {
      const group = podGroup({
        kind: 'container-start',
        reason: row.reason,
        container: row.container,
        initContainer: true,
        message: row.message,
        ...(row.exitCode === undefined ? {} : { exitCode: row.exitCode }),
        examples: [
          {
            namespace: 'web-vms',
            name: 'virt-launcher-rhel9-web-00001-x7k2p',
            reason: row.reason,
            message: row.message,
          },
        ],
      });
      assert.equal(initStartProblem(group), row.expected === 'unknown' ? undefined : row.expected);
      const { causes } = attributeCauses(factsWith({ groups: [group] }));
      assert.deepEqual(
        causes.map((cause) => [cause.category, cause.pods]),
        [[row.expected, 10]],
      );
      const [cause] = causes;
      assert.ok(cause?.evidence.some((evidence) => evidence.kind === 'Pod'));
      if (row.expected === 'unknown') {
        assert.match(
          cause?.summary ?? '',
          new RegExp(`seen: ${row.reason} in ${row.container} \\(init\\) exit 128: 10`),
        );
        assert.equal(cause?.evidence[0]?.message, row.message);
      }
    });
  }

  it('names the init containers and what failed in the image summary and remediation', () => {
    const group = podGroup({
      kind: 'container-start',
      reason: 'StartError',
      container: 'container-disk-binary',
      initContainer: true,
      exitCode: 128,
      message: START_ERROR_EXEC,
      image: 'quay.io/kubevirt/virt-launcher:v1.6.2',
      nodes: [{ key: 'worker-7', count: 10 }],
    });
    const finding = analyzeImage(factsWith({ groups: [group] }));
    assert.equal(
      finding.summary,
      'Init containers cannot start from their images: container-disk-binary (StartError: no such file or directory) (quay.io/kubevirt/virt-launcher:v1.6.2)',
    );
    assert.match(finding.remediation[0] ?? '', /^The runtime on worker-7 cannot use the images/);
  });

  it('says which init container cannot mount its volumes, and where', () => {
    const [, , , , disk] = TABLE;
    const group = podGroup({
      kind: 'container-start',
      reason: 'ContainerCannotRun',
      container: 'volumecontainerdisk-init',
      initContainer: true,
      exitCode: 128,
      message: disk?.message ?? '',
      nodes: [{ key: 'worker-3', count: 10 }],
    });
    const finding = analyzeStorage(factsWith({ groups: [group] }));
    assert.equal(
      finding.summary,
      'Volumes cannot be mounted: the runtime cannot mount the volumes of init containers volumecontainerdisk-init (ContainerCannotRun: no space left on device) on worker-3',
    );
    assert.match(finding.remediation[0] ?? '', /container runtime's disk on worker-3/);
    assert.equal(finding.remediation.length, 2, 'no PVC or CSI advice for a runtime that cannot mount');
    assert.match(
      finding.remediation[1] ?? '',
      /^Once the runtime can mount volumes again, write the support bundle/,
    );
  });

  it('does not read a main container start failure as an init container problem', () => {
    const group = podGroup({ kind: 'container-start', reason: 'StartError', message: START_ERROR_EXEC });
    assert.equal(initStartProblem(group), undefined);
    assert.deepEqual(analyzeImage(factsWith({ groups: [group] })).claims, []);
    assert.deepEqual(analyzeResources(factsWith({ groups: [group] })).claims, []);
  });

  it('unknown shows the reasons, containers and exit codes it saw, most pods first', () => {
    const crash = podGroup({ count: 12, reason: 'Error', container: 'compute', exitCode: 2 });
    const lost = podGroup({ count: 3, kind: 'unknown', reason: 'Unknown', examples: [] });
    delete (lost as { container?: string }).container;
    delete (lost as { exitCode?: number }).exitCode;
    const finding = analyzeUnknown(factsWith({ groups: [lost, crash] }));
    assert.equal(
      finding.summary,
      'No known failure signature; seen: Error in compute exit 2: 12 and Unknown: 3',
    );
    assert.equal(finding.evidence[0]?.message, 'container compute ended with Error (exit 2)');
  });
});
