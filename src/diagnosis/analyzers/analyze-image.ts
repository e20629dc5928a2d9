import {
  type Analyzer,
  captures,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  messagesOf,
  podEvidence,
} from './analyzer.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import type { PodGroup } from './facts.js';

// Image pulls: the kubelet reports them as container waiting reasons (ErrImagePull, ImagePullBackOff) and as
// Warning events "Failed to pull image "<ref>": ..." / "Back-off pulling image "<ref>"" (kubelet images/puller.go).
// For a launcher that means its containerDisk (`volume<name>-init`, `volume<name>`) or virt-launcher image.

export const analyzeImage: Analyzer = (facts) => {
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence =
      group.kind === 'image' ? 0.95 : group.eventClasses.includes('image-pull') ? 0.85 : undefined;
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
  const problems = pullProblems([
    ...claimed.flatMap((group) => (group.message ? [{ text: group.message, weight: group.count }] : [])),
    ...events.map((event) => ({
      text: event.example.message ?? '',
      weight: event.onFailedLaunchers || event.objects,
    })),
  ]);
  const problem = problems[0];
  const others = problems.slice(1).map((other) => other.label);
  const subject = images.length > 0 ? listNames(images, 2) : 'their container images';
  return {
    category: 'image',
    claims,
    summary: `Image pulls fail for ${subject}${problem ? `: ${problem.label}` : ''}${others.length > 0 ? ` (also: ${others.join('; ')})` : ''}`,
    evidence: evidenceRows(eventEvidence(events), podEvidence(claimed, 2)),
    remediation: [
      ...problems.map((each) => each.fix(registries)),
      `Check that ${registries.length > 0 ? listNames(registries) : 'the registry'} is reachable from the nodes and that ${images.length > 0 ? listNames(images, 2) : 'the image'} exists (e.g. crictl pull on an affected node).`,
      cleanupRemediation(claimed, 'Once the image pulls (KubeVirt starts new launchers by itself)'),
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
