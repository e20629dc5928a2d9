import {
  type Analyzer,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  podEvidence,
  topNodes,
} from './analyzer.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import type { PodGroup } from './facts.js';
import { initStartProblem } from './init-start-problem.js';

// Resources: the kubelet ends pods with status.reason Evicted ("The node was low on resource: memory. ...",
// eviction/helpers.go), rejects them at admission (OutOfcpu, OutOfmemory, UnexpectedAdmissionError "Allocate
// failed due to can't allocate unhealthy devices devices.kubevirt.io/kvm", lifecycle/predicate.go), preempts them
// (Preempting), and the kernel OOM-kills the compute container (reason OOMKilled, exit 137).

const DECISIVE = new Set(['evicted', 'admission-rejected', 'preempted', 'oom-killed']);

export const analyzeResources: Analyzer = (facts) => {
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence = DECISIVE.has(group.kind)
      ? 0.95
      : initStartProblem(group) === 'resources'
        ? 0.9
        : group.eventClasses.some((eventClass) => ['eviction', 'oom', 'admission'].includes(eventClass))
          ? 0.6
          : undefined;
    if (confidence === undefined) return [];
    claimed.push(group);
    return [{ groupId: group.id, confidence }];
  });
  const byKind = (kind: string) => claimed.filter((group) => group.kind === kind);
  const evicted = byKind('evicted');
  const oom = byKind('oom-killed');
  const rejected = byKind('admission-rejected');
  const preempted = byKind('preempted');
  const initOom = claimed.filter((group) => initStartProblem(group) === 'resources');
  const resources = [
    ...new Set([...evicted, ...rejected].flatMap((group) => (group.resource ? [group.resource] : []))),
  ];
  const nodes = topNodes(claimed);
  const onNodes = nodes.length > 0 ? ` on ${listNames(nodes)}` : '';
  const parts = [
    evicted.length > 0
      ? `evicted under ${resources.length > 0 ? `${listNames(resources)} ` : ''}pressure`
      : '',
    oom.length > 0 ? 'OOM-killed' : '',
    initOom.length > 0 ? 'OOM-killed while their init containers started' : '',
    rejected.length > 0 ? 'rejected at admission' : '',
    preempted.length > 0 ? 'preempted' : '',
  ].filter(Boolean);
  const remediation: string[] = [];
  if (evicted.length > 0) {
    remediation.push(
      `Relieve ${resources.length > 0 ? listNames(resources) : 'resource'} pressure${onNodes}: free space or memory, check kubelet evictionHard thresholds, and spread the VMs (requests = usage).`,
    );
  }
  if (oom.length > 0) {
    remediation.push(
      "The compute container exceeded its memory limit: raise the VMs' memory overhead (KubeVirt CR spec.configuration.additionalGuestMemoryOverheadRatio) or their memory limits.",
    );
  }
  if (initOom.length > 0) {
    remediation.push(
      "The launchers' init containers were OOM-killed as they started (their limit is small, 40M): check the kernel and runtime for extra per-container memory (page cache charged to the cgroup, kubevirt#2603) and update KubeVirt if a newer release raises the limit.",
    );
  }
  if (rejected.length > 0) {
    remediation.push(
      `Admission rejections${onNodes}: check the node's allocatable resources and device plugins (virt-handler registers devices.kubevirt.io/kvm, tun, vhost-net).`,
    );
  }
  if (preempted.length > 0)
    remediation.push('Give the VMs a PriorityClass that higher-priority workloads do not preempt.');
  remediation.push(cleanupRemediation(claimed, 'Once the nodes have room again'));
  return {
    category: 'resources',
    claims,
    summary: `Launchers ${parts.length > 0 ? listNames(parts, 4) : 'ended by node resource pressure'}${onNodes}`,
    evidence: evidenceRows(
      podEvidence(claimed, 2),
      eventEvidence(eventGroupsOf(facts, ['eviction', 'oom', 'admission']), 2),
    ),
    remediation,
  };
};
