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

/** The `-n`/`-A` scope of the follow-up commands: one namespace when all failures are there, else all. */
function scopeOf(diagnosis: Diagnosis): string {
  const [only, ...more] = diagnosis.byNamespace;
  return only !== undefined && more.length === 0 ? `-n ${shellWord(only.key)}` : '-A';
}

/** VMIs whose in-flight migration gets its own cancel command; the listing step covers the rest. */
export const CANCEL_PER_VMI = 3;

/**
 * The runbook's mitigation order: stop the churn (migrations), keep the evidence, clean the Failed pods, then check
 * the alert clears. Every command works today with kubectl alone (the commands come from MITIGATION_COMMANDS, the
 * one place to switch to stuckfailed's own once they exist), deletes only what it names, and prints or lists
 * before anything is deleted where it cannot name the objects.
 */
export function nextStepsFor(diagnosis: Diagnosis): NextStep[] {
  const scope = scopeOf(diagnosis);
  const { migrations } = diagnosis;
  const steps: NextStep[] = [];
  const migrationCause = diagnosis.causes.some((cause) => cause.category === 'migration');
  if (migrations.inFlight > 0 && (migrations.storm || migrationCause)) {
    steps.push({
      command: MITIGATION_COMMANDS.listInFlightMigrations(scope),
      why:
        `print the cancel command of each of the ${migrations.inFlight} in-flight migrations (phase neither ` +
        'Succeeded nor Failed); run them one by one, never `delete vmim --all`: finished vmims are the history',
      language: 'sh',
    });
    for (const vmi of migrations.topVMIs.slice(0, CANCEL_PER_VMI)) {
      steps.push({
        command: MITIGATION_COMMANDS.cancelVmiMigration(vmi.namespace, vmi.vmi),
        why:
          `cancel the in-flight migration, if any, of ${vmi.namespace}/${vmi.vmi} (${plural(vmi.migrations, 'migration')}, ` +
          `${plural(vmi.failedLaunchers, 'Failed launcher')})`,
        language: 'sh',
      });
    }
  }
  if (diagnosis.failedLaunchers > 0) {
    steps.push({
      command: MITIGATION_COMMANDS.writeBundle(),
      why: 'before deleting anything: save the evidence, deleting the pods destroys their status, events and logs',
      language: 'sh',
    });
    const namespaces = breakdownOf('namespaces', diagnosis.byNamespace);
    for (const namespace of namespaces.top) {
      steps.push({
        command: MITIGATION_COMMANDS.deleteFailedLaunchers(namespace.key),
        why: `delete the ${plural(namespace.count, 'Failed launcher')} in ${namespace.key}`,
        language: 'sh',
      });
    }
    if (namespaces.otherKeys > 0) {
      steps.push({
        command: MITIGATION_COMMANDS.countFailedLaunchersByNamespace(),
        why:
          `+${namespaces.otherKeys} more ${namespaces.otherKeys === 1 ? 'namespace' : 'namespaces'} ` +
          `(${plural(namespaces.others, 'pod')}): list them, then run the same delete in each`,
        language: 'sh',
      });
    }
    steps.push(
      {
        command: MITIGATION_COMMANDS.failedLauncherCountQuery(),
        why: `after fixing the cause: the alert's count must fall below ${diagnosis.threshold} and stay there`,
        language: 'promql',
      },
      {
        command: MITIGATION_COMMANDS.countFailedLaunchers(),
        why: 'the same count from the API server: new Failed launchers mean the cause is still there',
        language: 'sh',
      },
      {
        command: MITIGATION_COMMANDS.rediagnose(),
        why: 'diagnose again: the causes should be gone',
        language: 'sh',
      },
    );
  }
  return steps;
}

const LAUNCHER_SELECTOR = '-l kubevirt.io=virt-launcher';
const FAILED_FIELD_SELECTOR = '--field-selector=status.phase=Failed';
/** Keeps the rows whose phase (the last custom column, `<none>` before the controller sets one) is not final. */
const NOT_FINAL = (column: number) => `$${column} !~ /^(Succeeded|Failed)$/`;

/**
 * The commands behind the next steps, in one place. All of them are kubectl (or PromQL) because stuckfailed's own
 * cancel/clean/validate commands do not exist yet; a later stage swaps them here.
 * - Migrations are cancelled by deleting the in-flight vmim (KubeVirt user guide, "Cancel a live migration"). Only
 *   one migration per VMI can be in flight (migration-create-admitter.go rejects a second), so a VMI's cancel
 *   deletes at most one object. The mutating webhook labels every vmim kubevirt.io/vmi-name=<vmi>
 *   (migration-create-mutator.go). Custom resources support no field selector on status.phase, hence awk.
 *   `--wait=false`: a vmim carries the kubevirt.io/migrationJobFinalize finalizer until the migration controller
 *   has aborted the migration, and kubectl would otherwise block until then.
 * - Pods are deleted per namespace with selectors, not with the runbook's `-o name | xargs -n50 oc delete`: `-o name`
 *   drops the namespace, so every DELETE goes to the context namespace and 404s, and xargs batches run into
 *   kubectl's 5 QPS limiter (shared/apiserver.md §0, §6). `--wait=false` saves the one GET per pod the wait costs.
 */
export const MITIGATION_COMMANDS = {
  listInFlightMigrations: (scope: string) =>
    `kubectl get vmim ${scope} --no-headers ` +
    '-o custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase' +
    ` | awk '${NOT_FINAL(3)} {print "kubectl delete vmim --wait=false -n", $1, $2}'`,
  cancelVmiMigration: (namespace: string, vmi: string) =>
    `kubectl get vmim -n ${shellWord(namespace)} -l ${shellWord(`kubevirt.io/vmi-name=${vmi}`)} --no-headers ` +
    '-o custom-columns=NAME:.metadata.name,PHASE:.status.phase' +
    ` | awk '${NOT_FINAL(2)} {print $1}' | xargs -r kubectl delete vmim --wait=false -n ${shellWord(namespace)}`,
  writeBundle: () => 'stuckfailed diagnose --bundle incident.tar.gz',
  deleteFailedLaunchers: (namespace: string) =>
    `kubectl delete pods -n ${shellWord(namespace)} ${LAUNCHER_SELECTOR} ${FAILED_FIELD_SELECTOR} --wait=false`,
  countFailedLaunchersByNamespace: () =>
    `kubectl get pods -A ${LAUNCHER_SELECTOR} ${FAILED_FIELD_SELECTOR} --no-headers ` +
    '-o custom-columns=NAMESPACE:.metadata.namespace | sort | uniq -c | sort -rn',
  failedLauncherCountQuery: () => FAILED_LAUNCHER_COUNT.record,
  countFailedLaunchers: () =>
    `kubectl get pods -A ${LAUNCHER_SELECTOR} ${FAILED_FIELD_SELECTOR} --no-headers | wc -l`,
  rediagnose: () => 'stuckfailed diagnose',
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
