import type { ClusterReader } from '../cluster/reader.js';
import { alertState } from './alert-state.js';
import { isMigrationStorm } from './analyzers/analyze-migration.js';
import { countOf } from './analyzers/analyzer.js';
import { attributeCauses } from './analyzers/attribute-causes.js';
import type { Artifact } from './artifacts.js';
import { type GatherOptions, gather } from './gather.js';
import type { DiagnosisPrometheusGatherer } from './prometheus-gatherer.js';
import { buildTimeline } from './timeline.js';
import type { Diagnosis, Sample } from './types.js';

// gather (I/O) -> analyzers (pure) -> Diagnosis (DESIGN §3, §4).

/** The alert's threshold upstream: sum(kube_pod_status_phase{phase='Failed', pod=~'virt-launcher-.*'}) >= 200. */
export const DEFAULT_THRESHOLD = 200;
export const DEFAULT_SAMPLES = 3;

export interface DiagnoseOptions extends Omit<GatherOptions, 'samplesPerGroup' | 'prometheus'> {
  /** --prometheus-url: gathered (its failure becomes a gatherErrors entry) and summarised into `prometheus`. */
  prometheus?: DiagnosisPrometheusGatherer;
  threshold?: number;
  /** Representative pods per cause (with their events). */
  samples?: number;
  /** The clock that stamps generatedAt. */
  now?: () => Date;
}

export interface DiagnoseResult {
  diagnosis: Diagnosis;
  artifacts: Artifact[];
}

/** The report's `scope`: only what was asked, and nothing for the whole cluster. */
function scopeOf(options: DiagnoseOptions): Pick<Diagnosis, 'scope'> {
  const { namespace, labelSelector } = options;
  if (namespace === undefined && !labelSelector) return {};
  return {
    scope: {
      ...(namespace === undefined ? {} : { namespace }),
      ...(labelSelector ? { labelSelector } : {}),
    },
  };
}

export async function diagnose(
  reader: ClusterReader,
  options: DiagnoseOptions = {},
): Promise<DiagnoseResult> {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const samplesPerCause = options.samples ?? DEFAULT_SAMPLES;
  const now = options.now?.() ?? new Date();
  const gathered = await gather(reader, { ...options, samplesPerGroup: samplesPerCause });
  const { facts } = gathered;
  const prometheusSummary = options.prometheus?.summary();
  const { causes, categoryOfGroup } = attributeCauses(facts);
  const timeline = buildTimeline(gathered.terminations, gathered.marks);

  const samples: Sample[] = [];
  for (const cause of causes) {
    const ofCause = gathered.samples.filter((entry) => categoryOfGroup.get(entry.groupId) === cause.category);
    for (const entry of ofCause.slice(0, samplesPerCause))
      samples.push({ ...entry.sample, category: cause.category });
  }

  const failedTargetLaunchers = countOf(facts.groups.filter((group) => group.migrationTarget));
  const { controlPlane, migrations } = facts;
  const diagnosis: Diagnosis = {
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    source: reader.source,
    threshold,
    failedLaunchers: facts.failedLaunchers,
    conditionMet: facts.failedLaunchers >= threshold,
    byNamespace: gathered.byNamespace,
    byNode: gathered.byNode,
    byReason: gathered.byReason,
    causes,
    migrations: {
      inFlight: migrations.inFlight,
      failed: migrations.failed,
      storm: isMigrationStorm(migrations, failedTargetLaunchers),
      topVMIs: migrations.vmis.slice(0, 10).map((vmi) => ({
        namespace: vmi.namespace,
        vmi: vmi.vmi,
        migrations: vmi.migrations,
        failedLaunchers: vmi.failedLaunchers,
      })),
    },
    controlPlane: {
      errorBursts: controlPlane.errorBursts,
      ...(controlPlane.namespace === undefined ? {} : { namespace: controlPlane.namespace }),
      ...(controlPlane.observedVersion === undefined ? {} : { version: controlPlane.observedVersion }),
      ...(controlPlane.targetVersion === undefined ? {} : { targetVersion: controlPlane.targetVersion }),
    },
    alert: alertState({
      threshold,
      failedLaunchers: facts.failedLaunchers,
      terminations: gathered.terminations,
      now,
      namespace: options.namespace,
      prometheus: prometheusSummary,
    }),
    attribution: gathered.attribution,
    timeline: timeline.timeline,
    timelineMarks: timeline.marks,
    samples,
    gatherErrors: gathered.gatherErrors,
    ...(prometheusSummary === undefined ? {} : { prometheus: prometheusSummary }),
    ...scopeOf(options),
  };
  return { diagnosis, artifacts: gathered.artifacts };
}
