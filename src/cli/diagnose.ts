import { type Command, Option } from 'commander';
import { openClusterReader } from '../cluster/open-reader.js';
import { DEFAULT_SAMPLES, DEFAULT_THRESHOLD, diagnose } from '../diagnosis/diagnose.js';
import { EVENTS_PER_NAMESPACE, type GatherProgress } from '../diagnosis/gather.js';
import { createPrometheusGatherer } from '../diagnosis/prometheus-gatherer.js';
import { createProgressReporter, REPORT_FORMATS, type ReportFormat, renderReport } from '../report/index.js';
import { plural } from '../util/plural.js';
import {
  addKubeFlags,
  addPrometheusFlags,
  type KubeFlags,
  kubeConfigOptions,
  outputOption,
  type PrometheusFlags,
  parsePositiveInt,
  thresholdOption,
} from './flags.js';
import { type CommandContext, colorsFor } from './io.js';

export interface DiagnoseFlags extends KubeFlags, PrometheusFlags {
  from?: string[];
  threshold: number;
  output: ReportFormat;
  bundle?: string;
  quiet?: boolean;
  samples: number;
  maxEventsPerNamespace?: number;
}

const PHASE_LABELS: Record<GatherProgress['phase'], string> = {
  nodes: 'listing nodes',
  pods: 'listing Failed virt-launcher pods',
  migrations: 'listing migrations',
  kubevirt: 'reading the KubeVirt CR',
  events: 'reading Warning events',
  logs: 'reading component logs',
  prometheus: 'querying Prometheus',
};

export function registerDiagnose(program: Command, context: CommandContext): void {
  const command = program
    .command('diagnose')
    .description(
      "Run the runbook's diagnosis: count the Failed virt-launcher pods, sample them with their events, check " +
        'migrations, the KubeVirt control plane and the infrastructure, and name the causes with their evidence.',
    )
    .addOption(
      new Option('--from <paths...>', 'read kubectl dumps / must-gather folders instead of the live cluster'),
    )
    .addOption(thresholdOption(DEFAULT_THRESHOLD))
    .addOption(outputOption(REPORT_FORMATS, 'text'))
    .addOption(
      new Option('--bundle <file>', 'also write a support bundle (tar.gz) with the report and artifacts'),
    )
    .addOption(new Option('-q, --quiet', 'no progress on stderr'))
    .addOption(
      new Option('--samples <n>', 'representative pods per cause')
        .argParser(parsePositiveInt)
        .default(DEFAULT_SAMPLES),
    )
    .addOption(
      new Option(
        '--max-events-per-namespace <n>',
        "Warning events of Failed launchers read per namespace; past it, those pods' causes are inferred from pods like them, and the report says so",
      )
        .argParser(parsePositiveInt)
        .default(EVENTS_PER_NAMESPACE),
    );
  addKubeFlags(command);
  addPrometheusFlags(command);
  command.action((flags: DiagnoseFlags) => runDiagnose(flags, context));
}

/** The diagnose command's work, also run by `demo` against its embedded simulator. */
export async function runDiagnose(flags: DiagnoseFlags, context: CommandContext): Promise<void> {
  const { io } = context;
  const opened = await openClusterReader({
    ...kubeConfigOptions(flags, io.env),
    from: flags.from,
    // Warnings are not progress: they reach stderr even with --quiet, and the report when they change it.
    onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
  });
  const progress = createProgressReporter({
    stream: io.stderr,
    isTTY: io.stderrIsTTY,
    quiet: flags.quiet ?? false,
  });
  // -A (or nothing) is every namespace: the alert is cluster-wide on purpose (kubevirt.md §1.1).
  const scope = flags.namespace !== undefined && !flags.allNamespaces ? { namespace: flags.namespace } : {};
  // The Prometheus client (and zod with it) and the bundle writer (and tar) load only when asked for: a run that
  // needs neither starts faster.
  const prometheus = flags.prometheusUrl
    ? createPrometheusGatherer(
        (await import('../prometheus/client.js')).createPrometheusClient({
          url: flags.prometheusUrl,
          ...(flags.prometheusTokenFile === undefined ? {} : { tokenFile: flags.prometheusTokenFile }),
          ...(flags.prometheusCaFile === undefined ? {} : { caFile: flags.prometheusCaFile }),
        }),
        scope,
      )
    : undefined;
  let phase: GatherProgress['phase'] | undefined;
  try {
    const { diagnosis, artifacts } = await diagnose(opened.reader, {
      threshold: flags.threshold,
      samples: flags.samples,
      sourceProblems: opened.problems,
      ...(flags.maxEventsPerNamespace === undefined
        ? {}
        : { eventsPerNamespace: flags.maxEventsPerNamespace }),
      ...scope,
      ...(flags.selector === undefined ? {} : { labelSelector: flags.selector }),
      ...(prometheus === undefined ? {} : { prometheus }),
      onProgress: (update) => {
        if (update.phase !== phase) {
          phase = update.phase;
          progress.start(PHASE_LABELS[update.phase]);
        }
        progress.update(update.done);
      },
    });
    progress.stop();
    io.stdout.write(renderReport(diagnosis, flags.output, { color: colorsFor(io).isColorSupported }));
    if (flags.bundle !== undefined) {
      const { writeBundle } = await import('../report/bundle.js');
      const summary = await writeBundle(flags.bundle, { diagnosis, artifacts });
      if (!flags.quiet) {
        io.stderr.write(
          `bundle written to ${summary.path} (${plural(summary.files.length, 'file')}, ${plural(summary.redactions, 'value')} redacted)\n`,
        );
      }
    }
  } finally {
    progress.stop();
    opened.close();
  }
}
