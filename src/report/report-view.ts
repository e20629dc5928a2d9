import type {
  AlertSummary,
  Cause,
  Count,
  Diagnosis,
  Evidence,
  PrometheusSummary,
} from '../diagnosis/types.js';
import { FAILED_LAUNCHER_COUNT } from '../prometheus/queries.js';
import { plural } from '../util/plural.js';

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

/** How a next step is run: pasted into a shell, or typed into Prometheus (its UI, Grafana, promtool query). */
export type StepLanguage = 'sh' | 'promql';

export interface NextStep {
  command: string;
  why: string;
  language: StepLanguage;
}

/** What Prometheus says, in one line, and whether its count disagrees with the API's. */
export interface PrometheusView {
  /** `Prometheus: alert firing since <time>; 240 Failed launchers (recording rule)`. */
  line: string;
  /** Set when the two counts are further apart than scrape timing explains. */
  disagreement?: string;
}

export interface ReportView {
  /** The alert's state (DESIGN §4 `alert`), which the verdict shows. */
  state: AlertSummary['state'];
  firing: boolean;
  headline: string;
  /** The alert's state, since when, and where that comes from (Prometheus, or an estimate from the API). */
  alertLine: string;
  /** Lines under the headline that qualify it: what is estimated rather than measured, what the scope covers. */
  notes: string[];
  /** Absent when the diagnosis has no Prometheus summary. */
  prometheus?: PrometheusView;
  causes: RankedCause[];
  breakdowns: Breakdown[];
  nextSteps: NextStep[];
}

export function buildReportView(diagnosis: Diagnosis): ReportView {
  return {
    state: diagnosis.alert.state,
    firing: diagnosis.alert.state === 'firing',
    headline: headlineOf(diagnosis),
    alertLine: alertLineOf(diagnosis.alert),
    notes: notesOf(diagnosis),
    ...(diagnosis.prometheus === undefined
      ? {}
      : { prometheus: prometheusViewOf(diagnosis.prometheus, diagnosis.failedLaunchers) }),
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
  return `${plural(diagnosis.failedLaunchers, 'Failed virt-launcher pod')} ${comparison} threshold ${diagnosis.threshold} (${state})`;
}

/** "Alert firing since <time> (estimated from the API: a lower bound)" */
export function alertLineOf(alert: AlertSummary): string {
  const since = alert.since === null ? '' : ` since ${oneLine(alert.since)}`;
  const state =
    alert.state === 'pending'
      ? `Alert pending: condition met${since}; it fires once the condition has held 10 minutes`
      : `Alert ${alert.state}${since}`;
  if (alert.source === 'prometheus') return `${state} (Prometheus)`;
  return alert.since === null ? state : `${state} (estimated from the API: a lower bound)`;
}

function notesOf(diagnosis: Diagnosis): string[] {
  const notes: string[] = [];
  const scoped = scopeNote(diagnosis);
  if (scoped !== undefined) notes.push(scoped);
  const { inferred } = diagnosis.attribution;
  if (inferred > 0) {
    notes.push(
      `Estimate: the causes of ${inferred} of ${plural(diagnosis.failedLaunchers, 'Failed launcher')} are inferred, ` +
        'not measured: their events lay past the per-namespace cap, and they took the causes of pods with the same ' +
        `failure signature; ${diagnosis.attribution.fromOwnEvidence} rest on their own status and events`,
    );
  }
  return notes;
}

/** With -n: the alert counts the whole cluster, so say which part of it this namespace is. */
function scopeNote(diagnosis: Diagnosis): string | undefined {
  const { alert, prometheus } = diagnosis;
  const namespace =
    prometheus?.namespace ?? (alert.scope === 'namespace' ? diagnosis.byNamespace[0]?.key : undefined);
  const here = plural(diagnosis.failedLaunchers, 'Failed launcher');
  if (prometheus?.namespace !== undefined) {
    const cluster = prometheus.trend.at(-1)?.value;
    if (cluster === undefined || cluster === 0)
      return `The alert is cluster-wide: namespace ${oneLine(prometheus.namespace)} holds ${here}`;
    return (
      `The alert is cluster-wide: namespace ${oneLine(prometheus.namespace)} holds ${here} of the cluster's ` +
      `${cluster} (${formatPercent(shareOf(diagnosis.failedLaunchers, cluster))})`
    );
  }
  if (alert.scope !== 'namespace') return undefined;
  return (
    `The alert is cluster-wide, but this diagnosis counts ${namespace === undefined ? 'one namespace' : `namespace ${oneLine(namespace)}`} alone (${here}): ` +
    'the state above is what that count alone would make of it; run without -n, or with --prometheus-url, for the alert itself'
  );
}

/**
 * Counts further apart than this are not scrape timing: kube-state-metrics is scraped every 30 s or so and pods keep
 * failing meanwhile, so a few percent (and a couple of pods) of drift between Prometheus and the API is normal.
 */
export const PROMETHEUS_TOLERANCE = { share: 0.05, pods: 2 };

export function prometheusViewOf(summary: PrometheusSummary, apiFailedLaunchers: number): PrometheusView {
  const { alert } = summary;
  const since = alert.activeAt === undefined ? '' : ` since ${oneLine(alert.activeAt)}`;
  const state = alert.state === 'inactive' ? 'alert inactive' : `alert ${alert.state}${since}`;
  const where = summary.namespace === undefined ? '' : ` in ${oneLine(summary.namespace)}`;
  const source = summary.source === 'recording-rule' ? 'recording rule' : 'expression: rules not installed';
  const line = `Prometheus: ${state}; ${plural(summary.failedLaunchers, 'Failed launcher')}${where} (${source})`;
  const gap = Math.abs(summary.failedLaunchers - apiFailedLaunchers);
  const larger = Math.max(summary.failedLaunchers, apiFailedLaunchers);
  if (gap <= PROMETHEUS_TOLERANCE.pods || gap <= larger * PROMETHEUS_TOLERANCE.share) return { line };
  // More in Prometheus: series of deleted pods live on (a stale kube-state-metrics, or the 5-minute lookback after
  // its last scrape); fewer: pods failed since the last successful scrape. Either way the API is the current truth.
  return {
    line,
    disagreement:
      `Prometheus counts ${summary.failedLaunchers}, the API ${apiFailedLaunchers} ` +
      `(${formatPercent(gap / larger)} apart): kube-state-metrics may be stale or its scrapes failing ` +
      '(check up{job=~".*kube-state-metrics.*"}); the counts in this report come from the API',
  };
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

export interface NextStepRun {
  language: StepLanguage;
  steps: NextStep[];
}

/** Consecutive steps grouped by language, in order: each run is one code block in Markdown and HTML. */
export function languageRuns(steps: NextStep[]): NextStepRun[] {
  const runs: NextStepRun[] = [];
  for (const step of steps) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.language === step.language) last.steps.push(step);
    else runs.push({ language: step.language, steps: [step] });
  }
  return runs;
}

/**
 * The scope of the follow-up commands: the namespace diagnose was given (-n), else the one namespace that holds every
 * failure, else all; and its pod selector (-l), which the commands that select pods keep (cancel-migrations' -l
 * selects vmims, so it gets the namespaces alone).
 */
function scopeOf(diagnosis: Diagnosis): { namespaces: string; pods: string } {
  const [only, ...more] = diagnosis.byNamespace;
  const namespace =
    diagnosis.scope?.namespace ?? (only !== undefined && more.length === 0 ? only.key : undefined);
  const namespaces = namespace === undefined ? '-A' : `-n ${shellWord(namespace)}`;
  const selector = diagnosis.scope?.labelSelector;
  return { namespaces, pods: selector ? `${namespaces} -l ${shellWord(selector)}` : namespaces };
}

/**
 * The runbook's mitigation order, as stuckfailed's own commands with the scope filled in: keep the evidence, then
 * either the whole plan at once (mitigate) or its steps one by one: stop the churn (cancel the looping VMIs'
 * in-flight migrations), clean the Failed pods (archived first), then check the alert clears. Every writing
 * command prints its plan and writes nothing without --yes, except the clean step, whose archive keeps each pod.
 */
export function nextStepsFor(diagnosis: Diagnosis): NextStep[] {
  const { namespaces, pods: scope } = scopeOf(diagnosis);
  const { migrations } = diagnosis;
  const steps: NextStep[] = [];
  const migrationCause = diagnosis.causes.some((cause) => cause.category === 'migration');
  const cancel = migrations.inFlight > 0 && (migrations.storm || migrationCause);
  const failed = diagnosis.failedLaunchers;
  if (failed > 0) {
    steps.push(
      {
        command: MITIGATION_COMMANDS.writeBundle(scope),
        why: 'first: save the evidence; deleting the pods destroys their status, events and logs',
        language: 'sh',
      },
      {
        command: MITIGATION_COMMANDS.mitigate(scope),
        why:
          'the steps below as one plan, each step with the cause it answers; prints the plan and writes nothing, ' +
          'add --yes to run it',
        language: 'sh',
      },
    );
  }
  if (cancel) {
    // topVMIs are ranked by failures: the first ones are the loops, whatever the threshold that makes one.
    const busiest = migrations.topVMIs.map((vmi) => `${vmi.namespace}/${vmi.vmi}`);
    steps.push({
      command: MITIGATION_COMMANDS.cancelLoopingMigrations(namespaces),
      why:
        `stop the loop: cancel the in-flight migrations (of ${migrations.inFlight}) of the VMIs in a migration loop` +
        `${busiest.length > 0 ? ` (most failed: ${busiest.slice(0, CANCEL_NAMED).join(', ')}${busiest.length > CANCEL_NAMED ? ', ...' : ''})` : ''}, ` +
        'never the finished ones, they are the history; add --yes to cancel them',
      language: 'sh',
    });
  }
  if (failed > 0) {
    steps.push(
      {
        command: MITIGATION_COMMANDS.clean(scope),
        why: `delete the ${plural(failed, 'Failed launcher')}, each archived with its events first (./stuckfailed-archive-<time>)`,
        language: 'sh',
      },
      {
        command: MITIGATION_COMMANDS.validate(),
        why:
          `after fixing the cause: waits until the count stays below ${diagnosis.threshold} for 10m and new launchers ` +
          'run; exit 0 once the alert has cleared',
        language: 'sh',
      },
      {
        command: MITIGATION_COMMANDS.failedLauncherCountQuery(),
        why: `the alert's count as Prometheus sees it, which must fall below ${diagnosis.threshold} and stay there`,
        language: 'promql',
      },
      {
        command: MITIGATION_COMMANDS.rediagnose(scope),
        why: 'diagnose again: the causes should be gone',
        language: 'sh',
      },
    );
  }
  return steps;
}

/** VMIs named in the cancel step's why; the command itself finds every looping one. */
export const CANCEL_NAMED = 3;

/**
 * The commands behind the next steps, in one place. `scope` is `-n NAMESPACE` or `-A`, then `-l SELECTOR` if any.
 * - cancel-migrations --looping deletes only in-flight vmims of the VMIs diagnose finds in a loop, never the
 *   runbook's `delete vmim -A`, which erases every finished migration and cancels nothing more.
 * - clean deletes exactly the Failed virt-launcher pods in scope, archived first, with uid preconditions, not with
 *   the runbook's `-o name | xargs -n50 oc delete`: `-o name` drops the namespace, so every DELETE goes to the
 *   context namespace and 404s, and xargs batches run into kubectl's 5 QPS limiter (shared/apiserver.md §0, §6).
 */
export const MITIGATION_COMMANDS = {
  writeBundle: (scope: string) => `stuckfailed diagnose ${scope} --bundle incident.tar.gz`,
  mitigate: (scope: string) => `stuckfailed mitigate ${scope}`,
  cancelLoopingMigrations: (scope: string) => `stuckfailed cancel-migrations --looping ${scope}`,
  clean: (scope: string) => `stuckfailed clean ${scope} --yes`,
  validate: () => 'stuckfailed validate',
  failedLauncherCountQuery: () => FAILED_LAUNCHER_COUNT.record,
  rediagnose: (scope: string) => `stuckfailed diagnose ${scope}`,
};

/**
 * A shell word that means `text` and nothing else: as is when it holds only characters no shell treats specially,
 * else single-quoted (a snapshot's namespace is not validated, and a backtick in it must not run anything).
 */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_./:=,@%+-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
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
