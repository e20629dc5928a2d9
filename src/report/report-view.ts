import type { Cause, Count, Diagnosis, Evidence } from '../diagnosis/types.js';

// What every human-facing report says, decided once: the verdict, the ranked causes with their share of the failed
// launchers, the top of each breakdown, and the commands to run next. The text, Markdown and HTML renderers only
// lay this out, so a terminal, a ticket and a browser never disagree.

export const RUNBOOK_URL = 'https://kubevirt.io/monitoring/runbooks/VirtLauncherPodsStuckFailed';

/** Evidence rows shown per cause: enough to convince, few enough to read in ten seconds. */
export const EVIDENCE_PER_CAUSE = 3;
/** Rows shown per breakdown (namespaces, nodes, reasons); the rest are summed into "others". */
export const TOP_PER_BREAKDOWN = 5;

export interface RankedCause extends Cause {
  rank: number;
  /** pods / failedLaunchers, 0..1 (0 when nothing failed). */
  share: number;
  shownEvidence: Evidence[];
  hiddenEvidence: number;
}

export interface Breakdown {
  title: string;
  top: Count[];
  /** Pods in the keys not shown. */
  others: number;
  /** Number of keys not shown. */
  otherKeys: number;
}

export interface NextStep {
  command: string;
  why: string;
}

export interface ReportView {
  firing: boolean;
  headline: string;
  causes: RankedCause[];
  breakdowns: Breakdown[];
  nextSteps: NextStep[];
}

export function buildReportView(diagnosis: Diagnosis): ReportView {
  return {
    firing: diagnosis.conditionMet,
    headline: headlineOf(diagnosis),
    causes: diagnosis.causes.map((cause, index) => ({
      ...cause,
      rank: index + 1,
      share: shareOf(cause.pods, diagnosis.failedLaunchers),
      shownEvidence: cause.evidence.slice(0, EVIDENCE_PER_CAUSE),
      hiddenEvidence: Math.max(0, cause.evidence.length - EVIDENCE_PER_CAUSE),
    })),
    breakdowns: [
      breakdownOf('namespaces', diagnosis.byNamespace),
      breakdownOf('nodes', diagnosis.byNode),
      breakdownOf('reasons', diagnosis.byReason),
    ],
    nextSteps: nextStepsFor(diagnosis),
  };
}

function headlineOf(diagnosis: Diagnosis): string {
  const comparison = diagnosis.conditionMet ? '>=' : '<';
  const state = diagnosis.conditionMet ? 'condition met' : 'condition not met';
  return `${diagnosis.failedLaunchers} Failed virt-launcher pods ${comparison} threshold ${diagnosis.threshold} (${state})`;
}

export function shareOf(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, part / whole) : 0;
}

export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function breakdownOf(title: string, counts: Count[]): Breakdown {
  // The diagnosis sorts breakdowns already; sorting again keeps the report right for a hand-edited snapshot.
  const sorted = [...counts].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  const top = sorted.slice(0, TOP_PER_BREAKDOWN);
  const rest = sorted.slice(TOP_PER_BREAKDOWN);
  return { title, top, others: rest.reduce((sum, c) => sum + c.count, 0), otherKeys: rest.length };
}

/** The `-n`/`-A` scope of the follow-up commands: one namespace when all failures are there, else all. */
function scopeOf(diagnosis: Diagnosis): string {
  const [only, ...more] = diagnosis.byNamespace;
  return only !== undefined && more.length === 0 ? `-n ${only.key}` : '-A';
}

/**
 * The runbook's mitigation order: stop the churn (migrations), then clean the Failed pods, then check the alert
 * clears. Writing commands print their plan unless given --yes (DESIGN §4), so every command here is safe to paste.
 */
function nextStepsFor(diagnosis: Diagnosis): NextStep[] {
  const scope = scopeOf(diagnosis);
  const steps: NextStep[] = [];
  const migrationCause = diagnosis.causes.some((cause) => cause.category === 'migration');
  if (diagnosis.migrations.inFlight > 0 && (diagnosis.migrations.storm || migrationCause)) {
    steps.push({
      command: `stuckfailed cancel-migrations ${scope}`,
      why: `plan the cancellation of the ${diagnosis.migrations.inFlight} in-flight migrations (add --yes to cancel)`,
    });
  }
  if (diagnosis.failedLaunchers > 0) {
    steps.push({
      command: `stuckfailed clean ${scope}`,
      why: `plan the archive and deletion of the ${diagnosis.failedLaunchers} Failed launchers (add --yes to delete)`,
    });
    steps.push({
      command: 'stuckfailed validate',
      why: 'after fixing the cause: check the count drops and stays below the threshold',
    });
  }
  return steps;
}

/** One line, no control characters: cluster-supplied text must not move the cursor or recolour a terminal. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

/** Cut to `max` characters with an ellipsis, so a 4 kB event message does not push the verdict off the screen. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/** Cut in the middle: an API message often names the object first and the actual error last. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.floor((max - 1) / 3);
  return `${text.slice(0, max - 1 - tail).trimEnd()}…${text.slice(text.length - tail).trimStart()}`;
}

/**
 * Word-wraps to `width` columns, every line after the first indented by `indent`; beyond `maxLines` the last line is
 * cut with an ellipsis. Words longer than a line (URLs, JSON) are split.
 */
export function wrap(text: string, width: number, indent: string, maxLines: number): string[] {
  const room = Math.max(10, width - indent.length);
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ').filter((w) => w !== '')) {
    let rest = word;
    while (rest.length > 0) {
      const candidate = current === '' ? rest : `${current} ${rest}`;
      if (candidate.length <= room) {
        current = candidate;
        rest = '';
      } else if (current !== '') {
        lines.push(current);
        current = '';
      } else {
        lines.push(rest.slice(0, room));
        rest = rest.slice(room);
      }
    }
  }
  if (current !== '') lines.push(current);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = truncate(`${lines[maxLines - 1]} …`, room);
  }
  return lines.map((line) => `${indent}${line}`);
}

/** kubectl's short names (vmim, vmi, vm), so an evidence row leaves room for its message. */
const SHORT_KINDS: Record<string, string> = {
  VirtualMachineInstanceMigration: 'vmim',
  VirtualMachineInstance: 'vmi',
  VirtualMachine: 'vm',
};

export function shortKind(kind: string): string {
  return SHORT_KINDS[kind] ?? kind.toLowerCase();
}

export function objectRef(evidence: { namespace?: string; name: string }): string {
  return evidence.namespace ? `${evidence.namespace}/${evidence.name}` : evidence.name;
}
