import {
  type Analyzer,
  captures,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  messagesOf,
  podEvidence,
  topNodes,
} from './analyzer.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import type { PodGroup } from './facts.js';
import { initFailureLabel, initStartProblem } from './init-start-problem.js';

// Image pulls: the kubelet reports them as container waiting reasons (ErrImagePull, ImagePullBackOff) and as
// Warning events "Failed to pull image "<ref>": ..." / "Back-off pulling image "<ref>"" (kubelet images/puller.go).
// For a launcher that means its containerDisk (`volume<name>-init`, `volume<name>`) or virt-launcher image.
// An init container the runtime cannot start because its image's content is missing or unusable is an image
// problem too (init-start-problem.ts).

export const analyzeImage: Analyzer = (facts) => {
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence =
      group.kind === 'image'
        ? 0.95
        : initStartProblem(group) === 'image'
          ? 0.9
          : group.eventClasses.includes('image-pull')
            ? 0.85
            : undefined;
    if (confidence === undefined) return [];
    claimed.push(group);
    return [{ groupId: group.id, confidence }];
  });
  const events = eventGroupsOf(facts, ['image-pull']);
  const texts = messagesOf(claimed, events);
  const images = [
    ...new Set([
      ...captures(texts, /(?:pull(?:ing)? image|image) "([^"]+)"/i),
      ...claimed.flatMap((group) => (group.kind === 'image' && group.image ? [group.image] : [])),
    ]),
  ];
  const registries = [...new Set(images.map(registryOf))];
  const unstartable = claimed.filter((group) => initStartProblem(group) === 'image');
  const pulls = claimed.filter((group) => !unstartable.includes(group));
  const problems = pullProblems([
    ...pulls.flatMap((group) => (group.message ? [{ text: group.message, weight: group.count }] : [])),
    ...events.map((event) => ({
      text: event.example.message ?? '',
      weight: event.onFailedLaunchers || event.objects,
    })),
  ]);
  const problem = problems[0];
  const others = problems.slice(1).map((other) => other.label);
  const subject = images.length > 0 ? listNames(images, 2) : 'their container images';
  const pullSummary = `Image pulls fail for ${subject}${problem ? `: ${problem.label}` : ''}${others.length > 0 ? ` (also: ${others.join('; ')})` : ''}`;
  const unstartableImages = [...new Set(unstartable.flatMap((group) => (group.image ? [group.image] : [])))];
  const startSummary = `Init containers cannot start from their images: ${listNames(
    [...new Set(unstartable.map(initFailureLabel))],
    2,
  )}${unstartableImages.length > 0 ? ` (${listNames(unstartableImages, 2)})` : ''}`;
  const nodes = topNodes(unstartable);
  return {
    category: 'image',
    claims,
    summary:
      unstartable.length === 0
        ? pullSummary
        : pulls.length === 0
          ? startSummary
          : `${startSummary}; ${pullSummary}`,
    evidence: evidenceRows(eventEvidence(events), podEvidence(unstartable, 2), podEvidence(pulls, 2)),
    remediation: [
      ...(unstartable.length > 0
        ? [
            `The runtime on ${listNames(nodes) || 'the nodes'} cannot use the images of the launchers' init containers (a layer it lost, or no runnable binary in it): remove the damaged images there (crictl rmi) so they are pulled again, and check the runtime's image store (crictl imagefsinfo, the runtime's log).`,
            "container-disk-binary runs the virt-launcher image (KubeVirt installs it); volume<name>-init runs the VM's containerDisk image: if one image fails on every node, rebuild or re-push that image.",
          ]
        : []),
      ...(pulls.length > 0
        ? [
            ...problems.map((each) => each.fix(registries)),
            `Check that ${registries.length > 0 ? listNames(registries) : 'the registry'} is reachable from the nodes and that ${images.length > 0 ? listNames(images, 2) : 'the image'} exists (e.g. crictl pull on an affected node).`,
          ]
        : []),
      cleanupRemediation(claimed, 'Once the images work (KubeVirt starts new launchers by itself)'),
    ],
  };
};

/** docker.io is implied when the first path part is not a host (has no dot or colon and is not localhost). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return first;
  return 'docker.io';
}

interface PullProblem {
  label: string;
  pattern: RegExp;
  fix(registries: string[]): string;
}

/** What the container runtime says went wrong, most specific first (CRI-O / containerd error strings). */
const PULL_PROBLEMS: PullProblem[] = [
  {
    label: 'the image or tag does not exist',
    pattern: /manifest unknown|not found|no such image|InvalidImageName/i,
    fix: () =>
      'Correct the image reference in the VM spec (containerDisk image or tag), or push the missing tag.',
  },
  {
    label: 'the registry refuses the credentials',
    pattern: /unauthorized|authentication required|denied|\b401\b|\b403\b/i,
    fix: (registries) =>
      `Fix the pull secret for ${listNames(registries) || 'the registry'} (imagePullSecrets of the VMs, or the node's global pull secret).`,
  },
  {
    label: 'the registry is unreachable',
    pattern: /timeout|connection refused|no such host|dial tcp|TLS handshake/i,
    fix: (registries) =>
      `Restore network access from the nodes to ${listNames(registries) || 'the registry'} (DNS, proxy, firewall), or mirror the image.`,
  },
  {
    label: 'the registry rate-limits the pulls',
    pattern: /toomanyrequests|rate limit/i,
    fix: (registries) =>
      `Authenticate to ${listNames(registries) || 'the registry'} or mirror the image to stop the rate limiting.`,
  },
];

/** The problems the messages show, weighted by how many pods or events say so, most frequent first. */
function pullProblems(texts: Array<{ text: string; weight: number }>): PullProblem[] {
  const weights = new Map<PullProblem, number>();
  for (const { text, weight } of texts) {
    const problem = PULL_PROBLEMS.find((candidate) => candidate.pattern.test(text));
    if (problem) weights.set(problem, (weights.get(problem) ?? 0) + weight);
  }
  return [...weights].sort((a, b) => b[1] - a[1]).map(([problem]) => problem);
}
