import type { EventClass } from '../event-class.js';
import type { CauseCategory, Count, Evidence } from '../types.js';
import type { DiagnosisFacts, EventGroup, PodGroup } from './facts.js';

/** An analyzer's bid for a group of Failed launchers: the strongest bid wins the group (attribute-causes.ts). */
export interface Claim {
  groupId: number;
  /** 0..1: how sure the analyzer is that its cause ended these pods. */
  confidence: number;
}

/** What one analyzer concludes: the pods it explains, on which evidence, and what to do about it. */
export interface Finding {
  category: CauseCategory;
  claims: Claim[];
  /** One line, with the specifics (registry, nodes, PVCs, version, VMIs). */
  summary: string;
  evidence: Evidence[];
  remediation: string[];
}

/** A pure function of plain facts, one per cause (k8sgpt's analyzer shape). */
export type Analyzer = (facts: DiagnosisFacts) => Finding;

/** How many evidence rows a finding carries: enough to act on, few enough to read at 3 a.m. */
export const MAX_EVIDENCE = 8;

export function podEvidence(groups: PodGroup[], limit = 3): Evidence[] {
  const rows: Evidence[] = [];
  for (const group of groups) {
    for (const example of group.examples.slice(0, limit)) {
      rows.push({
        kind: 'Pod',
        namespace: example.namespace,
        name: example.name,
        ...(example.reason ? { reason: example.reason } : {}),
        ...(example.message ? { message: example.message } : {}),
      });
    }
  }
  return rows;
}

export function eventGroupsOf(facts: DiagnosisFacts, classes: EventClass[]): EventGroup[] {
  return facts.events
    .filter((group) => classes.includes(group.eventClass))
    .sort((a, b) => b.onFailedLaunchers - a.onFailedLaunchers || b.occurrences - a.occurrences);
}

export function eventEvidence(groups: EventGroup[], limit = 4): Evidence[] {
  return groups.slice(0, limit).map((group) => group.example);
}

/** Evidence rows without repeats, at most MAX_EVIDENCE. */
export function evidenceRows(...lists: Evidence[][]): Evidence[] {
  const seen = new Set<string>();
  const rows: Evidence[] = [];
  for (const row of lists.flat()) {
    const key = `${row.kind}/${row.namespace ?? ''}/${row.name}/${row.reason ?? ''}/${row.message ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(row);
    if (rows.length >= MAX_EVIDENCE) break;
  }
  return rows;
}

/** Sums per-key counts over groups, largest first. */
export function mergeCounts(lists: Count[][], limit = 5): Count[] {
  const totals = new Map<string, number>();
  for (const list of lists) {
    for (const { key, count } of list) totals.set(key, (totals.get(key) ?? 0) + count);
  }
  return [...totals]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, limit);
}

export function countOf(groups: PodGroup[]): number {
  return groups.reduce((sum, group) => sum + group.count, 0);
}

/** "a, b and 3 more" */
export function listNames(names: string[], shown = 3): string {
  if (names.length === 0) return '';
  const head = names.slice(0, shown);
  const rest = names.length - head.length;
  if (rest > 0) return `${head.join(', ')} and ${rest} more`;
  if (head.length === 1) return head[0] ?? '';
  return `${head.slice(0, -1).join(', ')} and ${head[head.length - 1]}`;
}

/** Distinct matches of a pattern's first capture group across texts, most frequent first. */
export function captures(texts: string[], pattern: RegExp, limit = 5): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const match of text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))) {
      const value = match[1];
      if (value) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([value]) => value);
}

/** The messages an analyzer reads for specifics: the groups' pod messages and the events' examples. */
export function messagesOf(groups: PodGroup[], events: EventGroup[]): string[] {
  const texts: string[] = [];
  for (const group of groups) {
    if (group.message) texts.push(group.message);
    for (const example of group.examples) if (example.message) texts.push(example.message);
  }
  for (const event of events) if (event.example.message) texts.push(event.example.message);
  return texts;
}

/** The nodes most of these groups' pods ran on. */
export function topNodes(groups: PodGroup[], limit = 5): string[] {
  return mergeCounts(
    groups.map((group) => group.nodes),
    limit,
  ).map((count) => count.key);
}
