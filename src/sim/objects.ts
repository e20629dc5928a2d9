// Factories for objects shaped as KubeVirt and Kubernetes write them, for the simulator's scenarios.
// Shapes follow kubevirt/kubevirt pkg/virt-controller/services/template.go (launcher pods), the API types in
// staging/src/kubevirt.io/api/core/v1/types.go, the kubelet's pod status (pkg/kubelet/status) and the examples in
// /work/shared/examples. Every object carries apiVersion and kind so the simulator can route it. resourceVersion is
// left out on purpose: the simulator's store assigns it when it stores the object.

import type {
  ContainerState,
  ContainerStatus,
  Event,
  KubeVirt,
  MigrationPhase,
  Namespace,
  Node,
  NodeCondition,
  Pod,
  PodCondition,
  PodPhase,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from '../kube/types.js';
import type { Random } from './random.js';

export const KUBEVIRT_NAMESPACE = 'kubevirt';
export const KUBEVIRT_REGISTRY = 'quay.io/kubevirt';
export const KUBELET_VERSION = 'v1.33.5';
export const CONTAINER_RUNTIME = 'cri-o://1.33.5';

/**
 * RFC 3339 with whole seconds, as the API server serialises metav1.Time. Formatted by hand (days to civil date, after
 * Howard Hinnant's days_from_civil inverse) because a 100k-pod scenario formats millions of them and
 * Date#toISOString plus trimming is several times slower. Years 1000-9999.
 */
export function rfc3339(date: Date): string {
  const epochSeconds = Math.floor(date.getTime() / 1000);
  const days = Math.floor(epochSeconds / 86400);
  let rest = epochSeconds - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  const zero = 48;
  return String.fromCharCode(
    zero + Math.floor(year / 1000),
    zero + (Math.floor(year / 100) % 10),
    zero + (Math.floor(year / 10) % 10),
    zero + (year % 10),
    45,
    zero + Math.floor(month / 10),
    zero + (month % 10),
    45,
    zero + Math.floor(day / 10),
    zero + (day % 10),
    84,
    zero + Math.floor(hours / 10),
    zero + (hours % 10),
    58,
    zero + Math.floor(minutes / 10),
    zero + (minutes % 10),
    58,
    zero + Math.floor(seconds / 10),
    zero + (seconds % 10),
    90,
  );
}

/** KubeVirt's log timestamp: `2006-01-02T15:04:05.000000Z` (client-go/log/log.go). */
export function kubevirtTimestamp(date: Date, micros: number): string {
  const sub = String(date.getUTCMilliseconds() * 1000 + (micros % 1000)).padStart(6, '0');
  return `${date.toISOString().slice(0, 19)}.${sub}Z`;
}

export function secondsBefore(date: Date, seconds: number): Date {
  return new Date(date.getTime() - seconds * 1000);
}

export function secondsAfter(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

export function launcherImage(version: string): string {
  return `${KUBEVIRT_REGISTRY}/virt-launcher:${version}`;
}

/** Hex digits that depend only on text: one image has one digest on every node, one version one deployment ID. */
export function stableHex(text: string, length: number): string {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const codes = new Array<number>(length);
  for (let at = 0; at < length; at += 8) {
    seed = (Math.imul(seed ^ (seed >>> 13), 0x5bd1e995) + 0x6b43a9b5) >>> 0;
    for (let shift = 28, i = at; shift >= 0 && i < length; shift -= 4, i++) {
      const nibble = (seed >>> shift) & 0xf;
      codes[i] = nibble < 10 ? 48 + nibble : 87 + nibble;
    }
  }
  return String.fromCharCode(...codes);
}

/** The resolved image reference the kubelet reports: repository@sha256:digest (the tag dropped, a registry port kept). */
export function imageId(image: string): string {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const repository = colon > slash ? image.slice(0, colon) : image;
  return `${repository}@sha256:${stableHex(image, 64)}`;
}

function containerId(random: Random): string {
  return ['cri-o://', random.hex(64)].join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces and nodes

export function makeNamespace(name: string, uid: string, createdAt: Date): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid,
      creationTimestamp: rfc3339(createdAt),
      labels: { 'kubernetes.io/metadata.name': name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  } as Namespace;
}

/** A node as the scenarios address it: name, internal IP and the /24 its pods get IPs from. */
export interface NodeInfo {
  name: string;
  ip: string;
  podSubnet: string;
}

export interface NodeHealth {
  /** Since when the kubelet reports memory pressure (the eviction manager's signal). */
  memoryPressureSince?: Date;
  diskPressureSince?: Date;
  /** Since when the node stopped posting status (node lifecycle controller: Ready=Unknown). */
  notReadySince?: Date;
  /** The last time Ready went True (a node back from a shutdown). */
  readySince?: Date;
  /** status.nodeInfo.bootID after a reboot (the kubelet reports the new one and records a Rebooted event). */
  bootId?: string;
  unschedulable?: boolean;
}

function nodeCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  since: Date,
  heartbeat: Date,
): NodeCondition {
  return {
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: rfc3339(heartbeat),
    lastTransitionTime: rfc3339(since),
  };
}

/** Node conditions and their messages as the kubelet sets them (pkg/kubelet/nodestatus/setters.go). */
export function makeNode(
  node: NodeInfo,
  uid: string,
  createdAt: Date,
  now: Date,
  health: NodeHealth = {},
): Node {
  const heartbeat = secondsBefore(now, 23);
  const unknown = health.notReadySince;
  const pressure = (
    type: string,
    since: Date | undefined,
    reasons: [string, string, string, string],
  ): NodeCondition => {
    if (unknown !== undefined) {
      return nodeCondition(
        type,
        'Unknown',
        'NodeStatusUnknown',
        'Kubelet stopped posting node status.',
        unknown,
        unknown,
      );
    }
    return since === undefined
      ? nodeCondition(type, 'False', reasons[0], reasons[1], createdAt, heartbeat)
      : nodeCondition(type, 'True', reasons[2], reasons[3], since, heartbeat);
  };
  const conditions: NodeCondition[] = [
    pressure('MemoryPressure', health.memoryPressureSince, [
      'KubeletHasSufficientMemory',
      'kubelet has sufficient memory available',
      'KubeletHasInsufficientMemory',
      'kubelet has insufficient memory available',
    ]),
    pressure('DiskPressure', health.diskPressureSince, [
      'KubeletHasNoDiskPressure',
      'kubelet has no disk pressure',
      'KubeletHasDiskPressure',
      'kubelet has disk pressure',
    ]),
    pressure('PIDPressure', undefined, [
      'KubeletHasSufficientPID',
      'kubelet has sufficient PID available',
      '',
      '',
    ]),
    unknown === undefined
      ? nodeCondition(
          'Ready',
          'True',
          'KubeletReady',
          'kubelet is posting ready status',
          health.readySince ?? createdAt,
          heartbeat,
        )
      : nodeCondition(
          'Ready',
          'Unknown',
          'NodeStatusUnknown',
          'Kubelet stopped posting node status.',
          unknown,
          unknown,
        ),
  ];
  const taints: Array<{ key: string; value?: string; effect: string; timeAdded?: string }> = [];
  if (unknown !== undefined) {
    taints.push(
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: rfc3339(unknown) },
      {
        key: 'node.kubernetes.io/unreachable',
        effect: 'NoExecute',
        timeAdded: rfc3339(secondsAfter(unknown, 5)),
      },
    );
  }
  if (health.memoryPressureSince !== undefined && unknown === undefined) {
    taints.push({
      key: 'node.kubernetes.io/memory-pressure',
      effect: 'NoSchedule',
      timeAdded: rfc3339(health.memoryPressureSince),
    });
  }
  if (health.diskPressureSince !== undefined && unknown === undefined) {
    taints.push({
      key: 'node.kubernetes.io/disk-pressure',
      effect: 'NoSchedule',
      timeAdded: rfc3339(health.diskPressureSince),
    });
  }
  if (health.unschedulable) {
    taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: rfc3339(now) });
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      uid,
      creationTimestamp: rfc3339(createdAt),
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/worker': '',
        'kubevirt.io/schedulable': unknown === undefined ? 'true' : 'false',
        'cpu-model.node.kubevirt.io/Skylake-Client-IBRS': 'true',
        'cpu-vendor.node.kubevirt.io/Intel': 'true',
      },
      annotations: {
        'kubevirt.io/heartbeat': rfc3339(unknown ?? heartbeat),
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      ...(health.unschedulable ? { unschedulable: true } : {}),
      ...(taints.length > 0 ? { taints } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      capacity: {
        cpu: '64',
        'devices.kubevirt.io/kvm': '1k',
        'devices.kubevirt.io/tun': '1k',
        'devices.kubevirt.io/vhost-net': '1k',
        'ephemeral-storage': '936986316Ki',
        memory: '527938552Ki',
        pods: '250',
      },
      allocatable: {
        cpu: '63500m',
        'devices.kubevirt.io/kvm': '1k',
        'devices.kubevirt.io/tun': '1k',
        'devices.kubevirt.io/vhost-net': '1k',
        'ephemeral-storage': '862197161Ki',
        memory: '516403192Ki',
        pods: '250',
      },
      conditions,
      nodeInfo: {
        architecture: 'amd64',
        containerRuntimeVersion: CONTAINER_RUNTIME,
        kernelVersion: '5.14.0-570.49.1.el9_6.x86_64',
        kubeProxyVersion: '',
        kubeletVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        osImage: 'Red Hat Enterprise Linux CoreOS 9.6',
        machineID: uid.replaceAll('-', ''),
        systemUUID: uid,
        bootID: health.bootId ?? uid,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// VMs, VMIs and their launcher pods

export type VmDisk =
  | { kind: 'containerDisk'; image: string }
  | { kind: 'persistentVolumeClaim'; claimName: string; volumeName: string; storageClass: string };

/** The identity of one VM as the scenarios lay it down: VM, VMI and launcher pods all derive from it. */
export interface VmIdentity {
  namespace: string;
  name: string;
  vmUid: string;
  vmiUid: string;
  cores: number;
  /** Guest memory, e.g. 4Gi. */
  memory: string;
  /** The compute container's memory request: guest memory plus KubeVirt's overhead (template.go). */
  computeMemoryRequest: string;
  disk: VmDisk;
  /** The VMI spec, built once and shared by the VM's template and the VMI. */
  spec: Record<string, unknown>;
}

const OPERATING_SYSTEMS = [
  { prefix: 'rhel9', image: 'quay.io/containerdisks/centos-stream:9' },
  { prefix: 'fedora', image: 'quay.io/containerdisks/fedora:42' },
  { prefix: 'ubuntu', image: 'quay.io/containerdisks/ubuntu:24.04' },
  { prefix: 'debian', image: 'quay.io/containerdisks/debian:12' },
] as const;
const ROLES = ['web', 'db', 'api', 'cache', 'build', 'batch', 'worker', 'app', 'gw', 'mq'] as const;
const MEMORY_SIZES = [
  { memory: '2Gi', request: '2294Mi' },
  { memory: '4Gi', request: '4372Mi' },
  { memory: '8Gi', request: '8529Mi' },
  { memory: '16Gi', request: '16711Mi' },
] as const;

export interface VmIdentityOptions {
  namespace: string;
  /** Unique across the cluster: it ends the VM's name, so names never collide. */
  index: number;
  disk: 'containerDisk' | 'persistentVolumeClaim';
  /** Overrides the container disk image (the image-pull scenario's broken image). */
  image?: string;
  storageClass?: string;
}

export function makeVmIdentity(random: Random, options: VmIdentityOptions): VmIdentity {
  const os = random.pick(OPERATING_SYSTEMS);
  const size = random.pick(MEMORY_SIZES);
  const name = `${os.prefix}-${random.pick(ROLES)}-${String(options.index).padStart(5, '0')}`;
  const disk: VmDisk =
    options.disk === 'containerDisk'
      ? { kind: 'containerDisk', image: options.image ?? os.image }
      : {
          kind: 'persistentVolumeClaim',
          claimName: `${name}-rootdisk`,
          volumeName: `pvc-${random.uuid()}`,
          storageClass: options.storageClass ?? 'ocs-storagecluster-ceph-rbd-virtualization',
        };
  const identity = {
    namespace: options.namespace,
    name,
    vmUid: random.uuid(),
    vmiUid: random.uuid(),
    cores: random.pick([1, 2, 4, 8]),
    memory: size.memory,
    computeMemoryRequest: size.request,
    disk,
  };
  return { ...identity, spec: vmiSpec(identity) };
}

/** The volume name KubeVirt gives the VM's single disk, and hence the container names volume<name>(-init). */
function diskVolumeName(vm: Pick<VmIdentity, 'disk'>): string {
  return vm.disk.kind === 'containerDisk' ? 'containerdisk' : 'rootdisk';
}

export interface VirtualMachineOptions {
  createdAt: Date;
  /** VirtualMachinePrintableStatus, e.g. Running, CrashLoopBackOff, ErrImagePull, Migrating. */
  printableStatus: string;
  ready: boolean;
}

export function makeVirtualMachine(vm: VmIdentity, options: VirtualMachineOptions): VirtualMachine {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name: vm.name,
      namespace: vm.namespace,
      uid: vm.vmUid,
      generation: 1,
      creationTimestamp: rfc3339(options.createdAt),
      labels: { app: vm.name },
      annotations: {
        'kubevirt.io/latest-observed-api-version': 'v1',
        'kubevirt.io/storage-observed-api-version': 'v1',
      },
      finalizers: ['kubevirt.io/virtualMachineControllerFinalize'],
    },
    spec: {
      runStrategy: 'Always',
      template: {
        metadata: { labels: { 'kubevirt.io/domain': vm.name, 'kubevirt.io/vm': vm.name } },
        spec: vm.spec,
      },
    },
    status: {
      created: true,
      ready: options.ready,
      printableStatus: options.printableStatus,
      desiredGeneration: 1,
      observedGeneration: 1,
      runStrategy: 'Always',
      volumeSnapshotStatuses: [
        { enabled: false, name: diskVolumeName(vm), reason: 'No VolumeSnapshotClass' },
      ],
    },
  };
}

const VMI_DEVICES = {
  containerDisk: {
    disks: [{ disk: { bus: 'virtio' }, name: 'containerdisk' }],
    interfaces: [{ masquerade: {}, name: 'default' }],
  },
  persistentVolumeClaim: {
    disks: [{ disk: { bus: 'virtio' }, name: 'rootdisk' }],
    interfaces: [{ masquerade: {}, name: 'default' }],
  },
};
const VMI_NETWORKS = [{ name: 'default', pod: {} }];

function vmiSpec(vm: Omit<VmIdentity, 'spec'>): Record<string, unknown> {
  const volume =
    vm.disk.kind === 'containerDisk'
      ? { name: 'containerdisk', containerDisk: { image: vm.disk.image, imagePullPolicy: 'IfNotPresent' } }
      : { name: 'rootdisk', persistentVolumeClaim: { claimName: vm.disk.claimName } };
  return {
    architecture: 'amd64',
    domain: {
      cpu: { cores: vm.cores, model: 'host-model', sockets: 1, threads: 1 },
      devices: VMI_DEVICES[vm.disk.kind],
      features: { acpi: { enabled: true } },
      firmware: { uuid: vm.vmUid },
      machine: { type: 'q35' },
      memory: { guest: vm.memory },
      resources: { requests: { memory: vm.memory } },
    },
    evictionStrategy: 'LiveMigrate',
    networks: VMI_NETWORKS,
    terminationGracePeriodSeconds: 180,
    volumes: [volume],
  };
}

export interface VirtualMachineInstanceOptions {
  createdAt: Date;
  /** Pending, Scheduling, Scheduled, Running, Succeeded, Failed. */
  phase: string;
  node?: string;
  /** pod uid -> node, as virt-controller tracks the launcher pods (status.activePods). */
  activePods: Record<string, string>;
  launcherImage: string;
  reason?: string;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  migrationState?: Record<string, unknown>;
}

export function makeVirtualMachineInstance(
  vm: VmIdentity,
  options: VirtualMachineInstanceOptions,
): VirtualMachineInstance {
  const labels: Record<string, string> = {
    'kubevirt.io/domain': vm.name,
    'kubevirt.io/vm': vm.name,
  };
  if (options.node !== undefined) labels['kubevirt.io/nodeName'] = options.node;
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: {
      name: vm.name,
      namespace: vm.namespace,
      uid: vm.vmiUid,
      generation: 6,
      creationTimestamp: rfc3339(options.createdAt),
      labels,
      annotations: { 'kubevirt.io/latest-observed-api-version': 'v1', 'kubevirt.io/vm-generation': '1' },
      finalizers: ['kubevirt.io/virtualMachineControllerFinalize', 'foregroundDeleteVirtualMachine'],
      ownerReferences: [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachine',
          name: vm.name,
          uid: vm.vmUid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: vm.spec,
    status: {
      phase: options.phase,
      ...(options.node === undefined ? {} : { nodeName: options.node }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      activePods: options.activePods,
      conditions: options.conditions ?? [],
      guestOSInfo: {},
      launcherContainerImageVersion: options.launcherImage,
      migrationMethod: 'BlockMigration',
      migrationTransport: 'Unix',
      qosClass: 'Burstable',
      ...(options.migrationState === undefined ? {} : { migrationState: options.migrationState }),
      phaseTransitionTimestamps: [
        { phase: 'Pending', phaseTransitionTimestamp: rfc3339(options.createdAt) },
        { phase: 'Scheduling', phaseTransitionTimestamp: rfc3339(secondsAfter(options.createdAt, 1)) },
        { phase: options.phase, phaseTransitionTimestamp: rfc3339(secondsAfter(options.createdAt, 9)) },
      ],
    },
  };
}

/** How a launcher pod ended up (or still is): its phase, the kubelet's reason/message, container states. */
export interface LauncherOutcome {
  phase: PodPhase;
  reason?: string;
  message?: string;
  /** When the pod reached its final phase (Failed / Succeeded). */
  finishedAt?: Date;
  /** Container states that differ from the phase's default, by container name. */
  containerStates?: Record<string, ContainerState>;
  initContainerStates?: Record<string, ContainerState>;
  /** The pod never got a network sandbox, hence no IP. */
  noPodIP?: boolean;
  /** Init containers did not all complete: the app containers never started. */
  notInitialized?: boolean;
  /** The DisruptionTarget condition the kubelet sets before it kills a pod (eviction, node shutdown). */
  disruption?: { reason: string; message: string };
}

export interface LauncherPodInput {
  vm: VmIdentity;
  node: NodeInfo;
  name: string;
  uid: string;
  createdAt: Date;
  image: string;
  /** Set for migration target pods: the vmim that created them (migration.go). */
  migration?: { uid: string; name: string };
  outcome: LauncherOutcome;
  random: Random;
}

export function launcherPodName(random: Random, vmiName: string): string {
  return `virt-launcher-${vmiName}-${random.suffix()}`;
}

export function terminated(
  exitCode: number,
  reason: string,
  startedAt: Date,
  finishedAt: Date,
  message?: string,
): ContainerState {
  return {
    terminated: {
      exitCode,
      reason,
      ...(message === undefined ? {} : { message }),
      startedAt: rfc3339(startedAt),
      finishedAt: rfc3339(finishedAt),
    },
  };
}

/** A container the kubelet lost track of when the pod was torn down (kubelet_pods.go convertToAPIContainerStatuses). */
export function containerStatusUnknown(): ContainerState {
  return {
    terminated: {
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the pod was terminated',
    },
  };
}

// The parts of a launcher pod that do not depend on the VM are built once and shared by every pod: a 100k-pod
// scenario would otherwise spend most of its memory on identical arrays. Consumers serialise objects (the simulator's
// store keeps JSON), so nothing mutates these.
const LAUNCHER_VOLUMES = [
  { name: 'private', emptyDir: {} },
  { name: 'public', emptyDir: {} },
  { name: 'sockets', emptyDir: {} },
  { name: 'virt-bin-share-dir', emptyDir: {} },
  { name: 'libvirt-runtime', emptyDir: {} },
  { name: 'ephemeral-disks', emptyDir: {} },
  { name: 'container-disks', emptyDir: {} },
  { name: 'hotplug-disks', emptyDir: {} },
];
const TERMINATION_MESSAGE = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};
const COMPUTE_ENV = [
  { name: 'XDG_CACHE_HOME', value: '/var/run/kubevirt-private' },
  { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
];
const COMPUTE_SECURITY_CONTEXT = {
  capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
  privileged: false,
  runAsGroup: 107,
  runAsNonRoot: true,
  runAsUser: 107,
};
const COMPUTE_LIMITS = {
  'devices.kubevirt.io/kvm': '1',
  'devices.kubevirt.io/tun': '1',
  'devices.kubevirt.io/vhost-net': '1',
};
const COMPUTE_VOLUME_MOUNTS = [
  { mountPath: '/var/run/kubevirt-private', name: 'private' },
  { mountPath: '/var/run/kubevirt', name: 'public' },
  { mountPath: '/var/run/kubevirt-ephemeral-disks', name: 'ephemeral-disks' },
  {
    mountPath: '/var/run/kubevirt/container-disks',
    mountPropagation: 'HostToContainer',
    name: 'container-disks',
  },
  { mountPath: '/var/run/libvirt', name: 'libvirt-runtime' },
  { mountPath: '/var/run/kubevirt/sockets', name: 'sockets' },
  {
    mountPath: '/var/run/kubevirt/hotplug-disks',
    mountPropagation: 'HostToContainer',
    name: 'hotplug-disks',
  },
];
const CONTAINER_DISK_RESOURCES = {
  limits: { cpu: '10m', memory: '40M' },
  requests: { cpu: '1m', 'ephemeral-storage': '50M', memory: '1M' },
};
const CONTAINER_DISK_BINARY_COMMAND = [
  '/usr/bin/cp',
  '/usr/bin/container-disk',
  '/init/usr/bin/container-disk',
];
const CONTAINER_DISK_BINARY_ENV = [{ name: 'XDG_CACHE_HOME', value: '/var/run/kubevirt-private' }];
const CONTAINER_DISK_BINARY_RESOURCES = {
  limits: { cpu: '100m', memory: '40M' },
  requests: { cpu: '10m', memory: '1M' },
};
const CONTAINER_DISK_BINARY_MOUNTS = [{ mountPath: '/init/usr/bin', name: 'virt-bin-share-dir' }];
const CONTAINER_DISK_COMMAND = ['/usr/bin/container-disk'];
const NO_OP_ARGS = ['--no-op'];
const GUEST_CONSOLE_COMMAND = ['/usr/bin/virt-tail'];
const GUEST_CONSOLE_ENV = [{ name: 'VIRT_LAUNCHER_LOG_VERBOSITY', value: '2' }];
const GUEST_CONSOLE_RESOURCES = {
  limits: { cpu: '15m', memory: '60M' },
  requests: { cpu: '5m', memory: '35M' },
};
const GUEST_CONSOLE_MOUNTS = [{ mountPath: '/var/run/kubevirt-private', name: 'private', readOnly: true }];
const LAUNCHER_NODE_SELECTOR = {
  'kubevirt.io/schedulable': 'true',
  'cpu-vendor.node.kubevirt.io/Intel': 'true',
};
const LAUNCHER_READINESS_GATES = [{ conditionType: 'kubevirt.io/virtual-machine-unpaused' }];
const LAUNCHER_SECURITY_CONTEXT = { fsGroup: 107, runAsGroup: 107, runAsNonRoot: true, runAsUser: 107 };
const LAUNCHER_TOLERATIONS = [
  { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
  { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
];

type ContainerSpec = Record<string, unknown> & { name: string; image: string };

/**
 * A virt-launcher pod as virt-controller creates it (template.go renderLaunchManifest) and the kubelet reports it.
 * Container states default to what the phase implies; the outcome overrides the ones that tell the story.
 */
export function makeLauncherPod(input: LauncherPodInput): Pod {
  const { vm, node, outcome, random } = input;
  const diskName = diskVolumeName(vm);
  const labels: Record<string, string> = {
    'kubevirt.io': 'virt-launcher',
    'kubevirt.io/created-by': vm.vmiUid,
    'kubevirt.io/domain': vm.name,
    'kubevirt.io/vm': vm.name,
    'vm.kubevirt.io/name': vm.name,
    'vmi.kubevirt.io/id': vm.name,
    'kubevirt.io/nodeName': node.name,
  };
  const annotations: Record<string, string> = {
    'kubevirt.io/domain': vm.name,
    'kubectl.kubernetes.io/default-container': 'compute',
    'kubevirt.io/migrationTransportUnix': 'true',
    'descheduler.alpha.kubernetes.io/request-evict-only': '',
    'kubevirt.io/vm-generation': '1',
  };
  if (input.migration !== undefined) {
    labels['kubevirt.io/migrationJobUID'] = input.migration.uid;
    annotations['kubevirt.io/migrationJobName'] = input.migration.name;
  }
  const podIP = outcome.noPodIP ? undefined : `${node.podSubnet}.${random.int(2, 253)}`;
  if (podIP !== undefined) {
    // Multus's network-status annotation, pretty-printed as Multus writes it.
    annotations['k8s.v1.cni.cncf.io/network-status'] =
      `[{\n    "name": "ovn-kubernetes",\n    "interface": "eth0",\n    "ips": [\n        "${podIP}"\n    ],\n` +
      `    "mac": "${macAddress(random)}",\n    "default": true,\n    "dns": {}\n}]`;
  }

  const containers: ContainerSpec[] = [
    {
      name: 'compute',
      image: input.image,
      imagePullPolicy: 'IfNotPresent',
      command: [
        '/usr/bin/virt-launcher-monitor',
        '--qemu-timeout',
        `${random.int(240, 360)}s`,
        '--name',
        vm.name,
        '--uid',
        vm.vmiUid,
        '--namespace',
        vm.namespace,
        '--kubevirt-share-dir',
        '/var/run/kubevirt',
        '--ephemeral-disk-dir',
        '/var/run/kubevirt-ephemeral-disks',
        '--container-disk-dir',
        '/var/run/kubevirt/container-disks',
        '--grace-period-seconds',
        '195',
        '--hook-sidecars',
        '0',
        '--ovmf-path',
        '/usr/share/OVMF',
        '--run-as-nonroot',
      ],
      env: COMPUTE_ENV,
      resources: {
        limits: COMPUTE_LIMITS,
        requests: {
          cpu: `${100 * vm.cores}m`,
          ...COMPUTE_LIMITS,
          'ephemeral-storage': '50M',
          memory: vm.computeMemoryRequest,
        },
      },
      securityContext: COMPUTE_SECURITY_CONTEXT,
      ...TERMINATION_MESSAGE,
      volumeMounts: COMPUTE_VOLUME_MOUNTS,
    },
  ];
  const initContainers: ContainerSpec[] = [];
  if (vm.disk.kind === 'containerDisk') {
    const diskMounts = [
      { mountPath: '/usr/bin', name: 'virt-bin-share-dir' },
      {
        mountPath: `/var/run/kubevirt-ephemeral-disks/container-disk-data/${vm.vmiUid}`,
        name: 'container-disks',
      },
    ];
    containers.push({
      name: `volume${diskName}`,
      image: vm.disk.image,
      imagePullPolicy: 'IfNotPresent',
      command: CONTAINER_DISK_COMMAND,
      args: ['--copy-path', `/var/run/kubevirt-ephemeral-disks/container-disk-data/${vm.vmiUid}/disk_0`],
      resources: CONTAINER_DISK_RESOURCES,
      ...TERMINATION_MESSAGE,
      volumeMounts: diskMounts,
    });
    initContainers.push(
      {
        name: 'container-disk-binary',
        image: input.image,
        imagePullPolicy: 'IfNotPresent',
        command: CONTAINER_DISK_BINARY_COMMAND,
        env: CONTAINER_DISK_BINARY_ENV,
        resources: CONTAINER_DISK_BINARY_RESOURCES,
        ...TERMINATION_MESSAGE,
        volumeMounts: CONTAINER_DISK_BINARY_MOUNTS,
      },
      {
        name: `volume${diskName}-init`,
        image: vm.disk.image,
        imagePullPolicy: 'IfNotPresent',
        command: CONTAINER_DISK_COMMAND,
        args: NO_OP_ARGS,
        resources: CONTAINER_DISK_RESOURCES,
        ...TERMINATION_MESSAGE,
        volumeMounts: diskMounts,
      },
    );
  }
  containers.push({
    name: 'guest-console-log',
    image: input.image,
    imagePullPolicy: 'IfNotPresent',
    command: GUEST_CONSOLE_COMMAND,
    args: ['--logfile', `/var/run/kubevirt-private/${vm.vmiUid}/virt-serial0-log`],
    env: GUEST_CONSOLE_ENV,
    resources: GUEST_CONSOLE_RESOURCES,
    ...TERMINATION_MESSAGE,
    volumeMounts: GUEST_CONSOLE_MOUNTS,
  });

  const volumes: Array<Record<string, unknown> & { name: string }> =
    vm.disk.kind === 'persistentVolumeClaim'
      ? [...LAUNCHER_VOLUMES, { name: 'rootdisk', persistentVolumeClaim: { claimName: vm.disk.claimName } }]
      : LAUNCHER_VOLUMES;

  const status = launcherStatus(input, containers, initContainers, podIP);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      generateName: `virt-launcher-${vm.name}-`,
      namespace: vm.namespace,
      uid: input.uid,
      creationTimestamp: rfc3339(input.createdAt),
      labels,
      annotations,
      ownerReferences: [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          name: vm.name,
          uid: vm.vmiUid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      automountServiceAccountToken: false,
      containers,
      ...(initContainers.length > 0 ? { initContainers } : {}),
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: false,
      hostname: vm.name,
      nodeName: node.name,
      nodeSelector: LAUNCHER_NODE_SELECTOR,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      readinessGates: LAUNCHER_READINESS_GATES,
      restartPolicy: 'Never',
      schedulerName: 'default-scheduler',
      securityContext: LAUNCHER_SECURITY_CONTEXT,
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 210,
      tolerations: LAUNCHER_TOLERATIONS,
      volumes,
    },
    status,
  };
}

function macAddress(random: Random): string {
  const hex = random.hex(10);
  return `0a:58:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

function launcherStatus(
  input: LauncherPodInput,
  containers: Array<{ name: string; image: string }>,
  initContainers: Array<{ name: string; image: string }>,
  podIP: string | undefined,
): NonNullable<Pod['status']> {
  const { outcome, random, node } = input;
  // A pod's timestamps take a handful of distinct values: format each once and share the strings.
  const created = rfc3339(input.createdAt);
  const scheduled = rfc3339(secondsAfter(input.createdAt, 1));
  const initDoneAt = secondsAfter(input.createdAt, initContainers.length + 3);
  const initDone = rfc3339(initDoneAt);
  const started = rfc3339(secondsAfter(initDoneAt, 2));
  const ready = rfc3339(secondsAfter(initDoneAt, 5));
  const finished = outcome.finishedAt === undefined ? started : rfc3339(outcome.finishedAt);
  const final = outcome.phase === 'Failed' || outcome.phase === 'Succeeded';

  const initStatuses: ContainerStatus[] = initContainers.map((container) => {
    const state = outcome.initContainerStates?.[container.name] ?? {
      terminated: { exitCode: 0, reason: 'Completed', startedAt: scheduled, finishedAt: initDone },
    };
    return containerStatus(container, state, random);
  });
  const containerStatuses: ContainerStatus[] = containers.map((container) => {
    let state = outcome.containerStates?.[container.name];
    if (state === undefined) {
      if (outcome.notInitialized) state = POD_INITIALIZING;
      else if (final)
        state = {
          terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: finished },
        };
      else state = { running: { startedAt: started } };
    }
    return containerStatus(container, state, random);
  });

  const running = outcome.phase === 'Running';
  const unready =
    outcome.phase === 'Succeeded'
      ? undefined
      : `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`;
  const notReady = (type: string): PodCondition =>
    unready === undefined
      ? { type, status: 'False', reason: 'PodCompleted', lastTransitionTime: finished }
      : {
          type,
          status: 'False',
          reason: 'ContainersNotReady',
          message: unready,
          lastTransitionTime: finished,
        };
  const conditions: PodCondition[] = [
    {
      type: 'kubevirt.io/virtual-machine-unpaused',
      status: 'True',
      reason: 'NotPaused',
      message: 'the virtual machine is not paused',
      lastTransitionTime: started,
    },
    {
      type: 'PodReadyToStartContainers',
      status: !outcome.noPodIP && !final ? 'True' : 'False',
      lastTransitionTime: final ? finished : scheduled,
    },
    outcome.notInitialized
      ? {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${initContainers.map((c) => c.name).join(' ')}]`,
          lastTransitionTime: scheduled,
        }
      : { type: 'Initialized', status: 'True', lastTransitionTime: initDone },
    running ? { type: 'Ready', status: 'True', lastTransitionTime: ready } : notReady('Ready'),
    running
      ? { type: 'ContainersReady', status: 'True', lastTransitionTime: ready }
      : notReady('ContainersReady'),
    { type: 'PodScheduled', status: 'True', lastTransitionTime: created },
  ];
  if (outcome.disruption !== undefined) {
    conditions.push({
      type: 'DisruptionTarget',
      status: 'True',
      reason: outcome.disruption.reason,
      message: outcome.disruption.message,
      lastTransitionTime: finished,
    });
  }
  return {
    phase: outcome.phase,
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
    conditions,
    hostIP: node.ip,
    hostIPs: [{ ip: node.ip }],
    ...(podIP === undefined ? {} : { podIP, podIPs: [{ ip: podIP }] }),
    qosClass: 'Burstable',
    startTime: scheduled,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses,
  } as NonNullable<Pod['status']>;
}

const POD_INITIALIZING: ContainerState = { waiting: { reason: 'PodInitializing' } };
/** restartPolicy Never: a launcher container never restarts, so it never has a last state. */
const NO_LAST_STATE: ContainerState = {};

function containerStatus(
  container: { name: string; image: string },
  state: ContainerState,
  random: Random,
): ContainerStatus {
  const started = state.running !== undefined || state.terminated?.startedAt !== undefined;
  const id = started ? containerId(random) : undefined;
  return {
    name: container.name,
    image: container.image,
    imageID: started ? imageId(container.image) : '',
    ...(id === undefined ? {} : { containerID: id }),
    lastState: NO_LAST_STATE,
    ready: state.running !== undefined,
    restartCount: 0,
    started: state.running !== undefined,
    state,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Migrations

export type MigrationTrigger = 'evacuation' | 'workload-update' | 'user';

/** GenerateName prefixes of the three creators (evacuation and workload-updater controllers, virt-api for virtctl). */
export const MIGRATION_NAME_PREFIX: Record<MigrationTrigger, string> = {
  evacuation: 'kubevirt-evacuation-',
  'workload-update': 'kubevirt-workload-update-',
  user: 'kubevirt-migrate-vm-',
};

export interface MigrationInput {
  vm: VmIdentity;
  name: string;
  uid: string;
  trigger: MigrationTrigger;
  createdAt: Date;
  /** Phases and when they were entered, oldest first; the last one is the current phase. */
  transitions: Array<[string, Date]>;
  sourceNode: string;
  sourcePod: string;
  targetNode?: string;
  targetPod?: string;
  failureReason?: string;
}

export function makeMigration(input: MigrationInput): VirtualMachineInstanceMigration {
  const last = input.transitions[input.transitions.length - 1];
  const phase = (last?.[0] ?? 'Pending') as MigrationPhase;
  const final = phase === 'Failed' || phase === 'Succeeded';
  const annotations: Record<string, string> = { 'kubevirt.io/latest-observed-api-version': 'v1' };
  if (input.trigger === 'evacuation') annotations['kubevirt.io/evacuationMigration'] = input.sourceNode;
  if (input.trigger === 'workload-update') annotations['kubevirt.io/workloadUpdateMigration'] = input.vm.name;
  const migrationState: Record<string, unknown> = {
    migrationUid: input.uid,
    sourceNode: input.sourceNode,
    sourcePod: input.sourcePod,
    ...(input.targetNode === undefined ? {} : { targetNode: input.targetNode }),
    ...(input.targetPod === undefined ? {} : { targetPod: input.targetPod }),
    mode: 'PreCopy',
    completed: phase === 'Succeeded',
    failed: phase === 'Failed',
    ...(input.failureReason === undefined ? {} : { failureReason: input.failureReason }),
    ...(final && last !== undefined ? { endTimestamp: rfc3339(last[1]) } : {}),
    startTimestamp: rfc3339(input.createdAt),
  };
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstanceMigration',
    metadata: {
      name: input.name,
      generateName: MIGRATION_NAME_PREFIX[input.trigger],
      namespace: input.vm.namespace,
      uid: input.uid,
      generation: 1,
      creationTimestamp: rfc3339(input.createdAt),
      labels: { 'kubevirt.io/vmi-name': input.vm.name },
      annotations,
      finalizers: ['kubevirt.io/migrationJobFinalize'],
    },
    spec: { vmiName: input.vm.name },
    status: {
      phase,
      phaseTransitionTimestamps: input.transitions.map(([name, at]) => ({
        phase: name,
        phaseTransitionTimestamp: rfc3339(at),
      })),
      migrationState,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Events

export interface EventInput {
  involved: {
    kind: string;
    apiVersion: string;
    namespace?: string;
    name: string;
    uid: string;
    fieldPath?: string;
  };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  count: number;
  first: Date;
  last: Date;
  /** source.component / reportingComponent: kubelet, default-scheduler, virtualmachine-controller, ... */
  component: string;
  /** source.host / reportingInstance for kubelet events. */
  host?: string;
}

/** A core/v1 Event as the client-go recorder writes it: `<object>.<hex>` names, namespace of the object. */
export function makeEvent(input: EventInput, random: Random): Event {
  const namespace = input.involved.namespace ?? 'default';
  const first = rfc3339(input.first);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${input.involved.name}.${random.hex(16)}`,
      namespace,
      uid: random.uuid(),
      creationTimestamp: first,
    },
    involvedObject: input.involved,
    reason: input.reason,
    message: input.message,
    type: input.type,
    count: input.count,
    firstTimestamp: first,
    lastTimestamp: input.last.getTime() === input.first.getTime() ? first : rfc3339(input.last),
    eventTime: null,
    source:
      input.host === undefined
        ? { component: input.component }
        : { component: input.component, host: input.host },
    reportingComponent: input.component,
    reportingInstance: input.host ?? '',
  };
}

export function podReference(pod: Pod, fieldPath?: string): EventInput['involved'] {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    uid: pod.metadata.uid ?? '',
    ...(fieldPath === undefined ? {} : { fieldPath }),
  };
}

export function kubevirtReference(
  kind: 'VirtualMachineInstance' | 'VirtualMachine' | 'VirtualMachineInstanceMigration',
  namespace: string,
  name: string,
  uid: string,
): EventInput['involved'] {
  return { kind, apiVersion: 'kubevirt.io/v1', namespace, name, uid };
}

// ---------------------------------------------------------------------------------------------------------------
// The KubeVirt CR and its component pods

export interface KubeVirtInput {
  uid: string;
  createdAt: Date;
  now: Date;
  observedVersion: string;
  targetVersion: string;
  outdatedWorkloads: number;
  /** When the current deployment (or upgrade) started. */
  deployingSince: Date;
}

/** The KubeVirt CR; an upgrade in flight shows target != observed and Progressing=True (virt-operator kubevirt.go). */
export function makeKubeVirt(input: KubeVirtInput): KubeVirt {
  const upgrading = input.observedVersion !== input.targetVersion;
  const probe = rfc3339(secondsBefore(input.now, 30));
  const since = rfc3339(input.deployingSince);
  const ready = { reason: 'AllComponentsReady', message: 'All components are ready.' };
  const deploying = {
    reason: 'DeploymentInProgress',
    message: `Deploying version ${input.targetVersion} with registry ${KUBEVIRT_REGISTRY}`,
  };
  // Conditions carry lastProbeTime, which the wire type leaves to its index signature.
  const conditions = [
    { type: 'Available', status: 'True', ...ready, lastProbeTime: probe, lastTransitionTime: since },
    {
      type: 'Progressing',
      status: upgrading ? 'True' : 'False',
      ...(upgrading ? deploying : ready),
      lastProbeTime: probe,
      lastTransitionTime: since,
    },
    {
      type: 'Degraded',
      status: 'False',
      ...(upgrading ? deploying : ready),
      lastProbeTime: probe,
      lastTransitionTime: since,
    },
    {
      type: 'Created',
      status: 'True',
      reason: 'AllResourcesCreated',
      message: 'All resources were created.',
      lastProbeTime: probe,
      lastTransitionTime: rfc3339(input.createdAt),
    },
  ];
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'KubeVirt',
    metadata: {
      name: 'kubevirt',
      namespace: KUBEVIRT_NAMESPACE,
      uid: input.uid,
      generation: upgrading ? 7 : 6,
      creationTimestamp: rfc3339(input.createdAt),
      annotations: {
        'kubevirt.io/latest-observed-api-version': 'v1',
        'kubevirt.io/storage-observed-api-version': 'v1',
      },
      finalizers: ['foregroundDeleteKubeVirt'],
    },
    spec: {
      certificateRotateStrategy: {},
      configuration: {
        developerConfiguration: { featureGates: [] },
        migrations: { parallelMigrationsPerCluster: 5, parallelOutboundMigrationsPerNode: 2 },
      },
      customizeComponents: {},
      imagePullPolicy: 'IfNotPresent',
      imageTag: input.targetVersion,
      workloadUpdateStrategy: { workloadUpdateMethods: ['LiveMigrate'] },
    },
    status: {
      phase: upgrading ? 'Deploying' : 'Deployed',
      conditions,
      operatorVersion: input.targetVersion,
      observedKubeVirtVersion: input.observedVersion,
      targetKubeVirtVersion: input.targetVersion,
      observedKubeVirtRegistry: KUBEVIRT_REGISTRY,
      targetKubeVirtRegistry: KUBEVIRT_REGISTRY,
      observedDeploymentID: deploymentId(input.observedVersion),
      targetDeploymentID: deploymentId(input.targetVersion),
      defaultArchitecture: 'amd64',
      outdatedVirtualMachineInstanceWorkloads: input.outdatedWorkloads,
      observedGeneration: upgrading ? 7 : 6,
    },
  };
}

function deploymentId(version: string): string {
  return stableHex(version, 40);
}

export type KubevirtComponent = 'virt-operator' | 'virt-api' | 'virt-controller' | 'virt-handler';

export interface ComponentPodInput {
  component: KubevirtComponent;
  name: string;
  uid: string;
  node: NodeInfo;
  version: string;
  createdAt: Date;
  random: Random;
  /** The owning ReplicaSet's pod-template-hash (Deployments) or the DaemonSet's controller-revision-hash. */
  templateHash: string;
}

/** A KubeVirt component pod (virt-operator resource/generate/components: deployments.go, daemonsets.go). */
export function makeComponentPod(input: ComponentPodInput): Pod {
  const { component, random } = input;
  const image = `${KUBEVIRT_REGISTRY}/${component}:${input.version}`;
  const daemonSet = component === 'virt-handler';
  const startedAt = secondsAfter(input.createdAt, 6);
  const podIP = `${input.node.podSubnet}.${random.int(2, 253)}`;
  const containerStatuses: ContainerStatus[] = [
    {
      name: component,
      image,
      imageID: imageId(image),
      containerID: containerId(random),
      lastState: {},
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: rfc3339(startedAt) } },
    },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      generateName: input.name.slice(0, input.name.length - 5),
      namespace: KUBEVIRT_NAMESPACE,
      uid: input.uid,
      creationTimestamp: rfc3339(input.createdAt),
      labels: {
        'kubevirt.io': component,
        'app.kubernetes.io/component': 'kubevirt',
        'app.kubernetes.io/managed-by': 'virt-operator',
        'app.kubernetes.io/version': input.version,
        'prometheus.kubevirt.io': 'true',
        ...(daemonSet
          ? { 'controller-revision-hash': input.templateHash, 'pod-template-generation': '2' }
          : { 'pod-template-hash': input.templateHash }),
      },
      annotations: {
        'kubectl.kubernetes.io/default-container': component,
        'kubevirt.io/install-strategy-identifier': deploymentId(input.version),
        'kubevirt.io/install-strategy-registry': KUBEVIRT_REGISTRY,
        'kubevirt.io/install-strategy-version': input.version,
        'openshift.io/required-scc': 'restricted-v2',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: daemonSet ? 'DaemonSet' : 'ReplicaSet',
          name: daemonSet ? component : `${component}-${input.templateHash}`,
          uid: random.uuid(),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: component,
          image,
          command: [component],
          args:
            component === 'virt-handler'
              ? [
                  '--port',
                  '8443',
                  '--hostname-override',
                  '$(NODE_NAME)',
                  '--pod-ip-address',
                  '$(MY_POD_IP)',
                  '--max-metric-requests',
                  '3',
                  '--console-server-port',
                  '8186',
                  '--graceful-shutdown-seconds',
                  '315',
                  '-v',
                  '2',
                ]
              : ['--port', '8443', '-v', '2'],
          resources: { requests: { cpu: '10m', memory: component === 'virt-handler' ? '357M' : '200Mi' } },
        },
      ],
      nodeName: input.node.name,
      priorityClassName: 'kubevirt-cluster-critical',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      serviceAccountName: `kubevirt-${component.replace('virt-', '')}`,
      terminationGracePeriodSeconds: daemonSet ? 330 : 30,
    },
    status: {
      phase: 'Running',
      conditions: [
        {
          type: 'Initialized',
          status: 'True',
          lastTransitionTime: rfc3339(secondsAfter(input.createdAt, 2)),
        },
        { type: 'Ready', status: 'True', lastTransitionTime: rfc3339(secondsAfter(startedAt, 10)) },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: rfc3339(secondsAfter(startedAt, 10)) },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(input.createdAt) },
      ],
      hostIP: input.node.ip,
      podIP,
      podIPs: [{ ip: podIP }],
      qosClass: 'Burstable',
      startTime: rfc3339(input.createdAt),
      containerStatuses,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Pods that are not launchers (noise the count must not include)

export interface PlainPodInput {
  namespace: string;
  name: string;
  generateName?: string;
  uid: string;
  labels: Record<string, string>;
  node: NodeInfo;
  createdAt: Date;
  image: string;
  container: string;
  outcome: LauncherOutcome;
  ownerReference?: { apiVersion: string; kind: string; name: string; uid: string };
  random: Random;
}

/** A one-container pod: a Job's pod, a user's pod named like a launcher, a hotplug attachment pod. */
export function makePlainPod(input: PlainPodInput): Pod {
  const { outcome, random } = input;
  const startedAt = secondsAfter(input.createdAt, 3);
  const finishedAt = outcome.finishedAt ?? startedAt;
  const state =
    outcome.containerStates?.[input.container] ??
    (outcome.phase === 'Running'
      ? { running: { startedAt: rfc3339(startedAt) } }
      : terminated(
          outcome.phase === 'Succeeded' ? 0 : 1,
          outcome.phase === 'Succeeded' ? 'Completed' : 'Error',
          startedAt,
          finishedAt,
        ));
  const podIP = `${input.node.podSubnet}.${random.int(2, 253)}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      ...(input.generateName === undefined ? {} : { generateName: input.generateName }),
      namespace: input.namespace,
      uid: input.uid,
      creationTimestamp: rfc3339(input.createdAt),
      labels: input.labels,
      ...(input.ownerReference === undefined
        ? {}
        : { ownerReferences: [{ ...input.ownerReference, controller: true, blockOwnerDeletion: true }] }),
    },
    spec: {
      containers: [
        {
          name: input.container,
          image: input.image,
          resources: { requests: { cpu: '10m', memory: '64Mi' } },
        },
      ],
      nodeName: input.node.name,
      restartPolicy: 'Never',
      schedulerName: 'default-scheduler',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
    },
    status: {
      phase: outcome.phase,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      ...(outcome.message === undefined ? {} : { message: outcome.message }),
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: rfc3339(input.createdAt) },
        {
          type: 'Ready',
          status: outcome.phase === 'Running' ? 'True' : 'False',
          lastTransitionTime: rfc3339(outcome.phase === 'Running' ? startedAt : finishedAt),
        },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(input.createdAt) },
      ],
      hostIP: input.node.ip,
      podIP,
      podIPs: [{ ip: podIP }],
      qosClass: 'Burstable',
      startTime: rfc3339(input.createdAt),
      containerStatuses: [containerStatus({ name: input.container, image: input.image }, state, random)],
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Logs

/** One line of KubeVirt's structured log (staging/src/kubevirt.io/client-go/log/log.go). */
export interface KubevirtLogFields {
  level: 'info' | 'warning' | 'error' | 'fatal';
  timestamp: string;
  pos: string;
  component: string;
  msg: string;
  namespace?: string;
  name?: string;
  kind?: string;
  uid?: string;
  reason?: string;
  controller?: string;
  subcomponent?: string;
}

/** Every field a line may carry, in the sorted order go-kit's JSON logger prints a map in. */
const LOG_KEY_ORDER: Array<keyof KubevirtLogFields> = [
  'component',
  'controller',
  'kind',
  'level',
  'msg',
  'name',
  'namespace',
  'pos',
  'reason',
  'subcomponent',
  'timestamp',
  'uid',
];

/** The line as KubeVirt prints it: go-kit's JSON logger marshals a map, so keys come out sorted. */
export function formatKubevirtLog(fields: KubevirtLogFields): string {
  const ordered: Partial<KubevirtLogFields> = {};
  for (const key of LOG_KEY_ORDER) {
    const value = fields[key];
    if (value !== undefined) (ordered as Record<string, string>)[key] = value;
  }
  return JSON.stringify(ordered);
}
