import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Option } from 'commander';
import { DEFAULT_SAMPLES, DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { formatDuration } from '../duration.js';
import type { PlanOutcome } from '../mitigation/apply-plan.js';
import type { Plan, StepOutcome } from '../mitigation/plan.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/index.js';
import { SCENARIO_NAMES, type ScenarioName } from '../sim/scenarios/types.js';
import { plural } from '../util/plural.js';
import type { ValidationVerdict } from '../validation/validate-clearing.js';
import type { RegisterCommand } from './commands.js';
import { runDemoServe } from './demo-serve.js';
import { runDiagnose } from './diagnose.js';
import { parseDurationFlag } from './duration-flag.js';
import { outputOption, parseNumber, parsePositiveInt } from './flags.js';
import type { CommandContext } from './io.js';
import { mitigateCommand } from './mitigate.js';
import { DEFAULT_WRITE_MAX_IN_FLIGHT, DEFAULT_WRITE_QPS, runWritingCommand } from './writing-command.js';

export interface DemoFlags {
  scenario: ScenarioName;
  failed: number;
  namespaces: number;
  nodes: number;
  seed: number;
  churn: number;
  window: number;
  archive?: string;
  output: ReportFormat;
  bundle?: string;
  serve?: boolean;
  port: number;
}

/** The demo's simulated cluster, for `demo` and `demo --serve`. */
export async function startDemoSimulator(flags: DemoFlags) {
  // Loaded when a demo runs, not when the command is registered: --help registers every command.
  const { startSimulator } = await import('../sim/index.js');
  return startSimulator({
    scenario: flags.scenario,
    failed: flags.failed,
    namespaces: flags.namespaces,
    nodes: flags.nodes,
    seed: flags.seed,
    churn: flags.churn,
  });
}

/** The demo's validate window: long enough to see the count hold, short enough to watch (the real default is 10m). */
const DEMO_WINDOW_MS = 10_000;

/**
 * The main job (`npm start`): a simulated incident with churn on an embedded cluster, taken through the runbook's
 * whole loop by the same code paths as against a real API server: diagnose, mitigate (cancel the looping
 * migrations, clean with archive), the root cause fixed (the simulator heals), validate; then what was found,
 * done and kept, and how long each step took.
 */
export const registerDemoCommand: RegisterCommand = (program, context) => {
  program
    .command('demo')
    .description(
      'Run the whole runbook on a simulated incident (no real cluster needed): diagnose, mitigate (cancel the ' +
        'looping migrations, clean with archive), heal the cause, validate that the alert clears, and sum up. ' +
        'Each step prints what the stuckfailed command prints against a real cluster.',
    )
    .addOption(
      new Option('--scenario <name>', 'the incident to simulate').choices(SCENARIO_NAMES).default('mixed'),
    )
    .addOption(
      new Option('--failed <n>', 'Failed virt-launcher pods').argParser(parsePositiveInt).default(320),
    )
    .addOption(new Option('--namespaces <n>', 'VM namespaces').argParser(parsePositiveInt).default(6))
    .addOption(new Option('--nodes <n>', 'nodes').argParser(parsePositiveInt).default(12))
    .addOption(new Option('--seed <s>', 'random seed').argParser(parsePositiveInt).default(7))
    .addOption(
      new Option('--churn <r>', 'new failures per second until healed, then new healthy launchers')
        .argParser(parseNumber)
        .default(2),
    )
    .addOption(
      new Option('--window <duration>', "validate's window (a demo setting; the real default is 10m)")
        .argParser(parseDurationFlag)
        .default(DEMO_WINDOW_MS, '10s'),
    )
    .addOption(
      new Option(
        '--archive <dir>',
        'where clean archives the pods it deletes (default: a new stuckfailed-demo-archive-* folder in the temp folder)',
      ),
    )
    .addOption(outputOption(REPORT_FORMATS, 'text'))
    .addOption(new Option('--bundle <file>', 'also write the support bundle (tar.gz)'))
    .addOption(
      new Option(
        '--serve',
        'instead: run stuckfailed serve on the simulated cluster, open an incident, and leave its web page up on ' +
          '127.0.0.1 (approve its plan there) until Ctrl-C',
      ),
    )
    .addOption(
      new Option('--port <port>', 'with --serve: the port of the page (0: a free one)')
        .argParser(parsePositiveInt)
        .default(8080),
    )
    .action((flags: DemoFlags) => (flags.serve ? runDemoServe(flags, context) : runDemo(flags, context)));
};

interface Timing {
  step: string;
  ms: number;
}

async function runDemo(flags: DemoFlags, context: CommandContext): Promise<void> {
  const { io } = context;
  // The diagnosis goes to stdout as asked (-o json stays parseable); the rest of the story goes beside it.
  const story = flags.output === 'text' ? io.stdout : io.stderr;
  const say = (text: string) => story.write(text);
  const dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-demo-'));
  const archiveDir = path.resolve(
    flags.archive ?? (await mkdtemp(path.join(tmpdir(), 'stuckfailed-demo-archive-'))),
  );
  const sim = await startDemoSimulator(flags);
  const timings: Timing[] = [];
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings.push({ step, ms: Date.now() - started });
    }
  };
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    io.stderr.write(
      `Simulated cluster at ${sim.url}: scenario ${flags.scenario}, ${plural(flags.failed, 'Failed virt-launcher pod')} ` +
        `in ${plural(flags.namespaces, 'namespace')} on ${plural(flags.nodes, 'node')}, ${flags.churn} new failure(s) per second ` +
        'until the cause is fixed.\n\n',
    );
    say('== 1. diagnose (stuckfailed diagnose -A)\n\n');
    await timed('diagnose', () =>
      runDiagnose(
        {
          kubeconfig,
          threshold: DEFAULT_THRESHOLD,
          samples: DEFAULT_SAMPLES,
          output: flags.output,
          quiet: true,
          ...(flags.bundle === undefined ? {} : { bundle: flags.bundle }),
        },
        context,
      ),
    );

    say(`\n== 2. mitigate (stuckfailed mitigate -A --yes --archive ${archiveDir})\n\n`);
    let diagnosis: Diagnosis | undefined;
    let verdict: ValidationVerdict | undefined;
    let plan: Plan | undefined;
    let mitigateStarted = Date.now();
    let validateStarted = Date.now();
    const mitigateContext: CommandContext = { ...context, io: { ...io, stdout: story } };
    const spec = mitigateCommand(
      {
        kubeconfig,
        allNamespaces: true,
        yes: true,
        output: 'text',
        qps: DEFAULT_WRITE_QPS,
        maxInFlight: DEFAULT_WRITE_MAX_IN_FLIGHT,
        keepPerVmi: 0,
        archive: archiveDir,
        window: flags.window,
        timeout: Math.max(6 * flags.window, 60_000),
        threshold: DEFAULT_THRESHOLD,
      },
      mitigateContext,
      {
        onDiagnosis: (found) => {
          diagnosis = found;
        },
        onVerdict: (found) => {
          verdict = found;
        },
        beforeValidate: () => {
          validateStarted = Date.now();
          timings.push({ step: 'mitigate', ms: validateStarted - mitigateStarted });
          // The runbook's Mitigation 3 is a person's work (fix the registry, the CNI, the storage); here the
          // simulator's cause goes away, and its churn brings healthy launchers from now on.
          sim.heal();
          say(
            '\n== 3. the root cause is fixed (the simulator heals: new launchers now start)\n' +
              `\n== 4. validate (stuckfailed validate --window ${formatDuration(flags.window)}; a demo setting, the alert's own window is 10m)\n\n`,
          );
        },
      },
    );
    const planned = spec.plan;
    spec.plan = async (request) => {
      const built = await planned(request);
      plan = built.plan;
      return built;
    };
    mitigateStarted = Date.now();
    const outcome = await runWritingCommand(spec);
    if (verdict !== undefined) timings.push({ step: 'validate', ms: Date.now() - validateStarted });
    else timings.push({ step: 'mitigate', ms: Date.now() - mitigateStarted });
    const archived = await countArchived(archiveDir);
    say(summary({ diagnosis, plan, outcome, verdict, archived, archiveDir, timings }));
    io.stderr.write(
      '\nTo explore a cluster like this one yourself:\n' +
        `  stuckfailed sim --scenario ${flags.scenario} --failed ${flags.failed} --seed ${flags.seed} --churn ${flags.churn} --kubeconfig-out sim.kubeconfig\n` +
        '  KUBECONFIG=sim.kubeconfig stuckfailed mitigate -A            # the plan, nothing written\n' +
        '  KUBECONFIG=sim.kubeconfig stuckfailed diagnose -o html > report.html\n',
    );
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Archive files written (one per pod), across the namespace folders. */
async function countArchived(archiveDir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(archiveDir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const files = await readdir(path.join(archiveDir, entry.name));
    count += files.filter((file) => file.endsWith('.yaml')).length;
  }
  return count;
}

interface SummaryInput {
  diagnosis: Diagnosis | undefined;
  plan: Plan | undefined;
  outcome: PlanOutcome | undefined;
  verdict: ValidationVerdict | undefined;
  archived: number;
  archiveDir: string;
  timings: Timing[];
}

function summary(input: SummaryInput): string {
  const { diagnosis, plan, outcome, verdict } = input;
  const stepOf = (action: StepOutcome['action']) => outcome?.steps.find((step) => step.action === action);
  const done = (action: StepOutcome['action']) => stepOf(action)?.counts.done ?? 0;
  const lines = ['', '== Summary'];
  const causes = diagnosis?.causes.map((cause) => `${cause.category} (${cause.pods} pods)`).join(', ');
  lines.push(
    `found:  ${diagnosis?.failedLaunchers ?? '?'} Failed virt-launcher pods; causes: ${causes || 'none'}`,
  );
  lines.push(
    `done:   ${done('cancel-migrations')} in-flight migration(s) of looping VMIs cancelled; ` +
      `${done('clean')} Failed launcher(s) deleted, ${input.archived} archived with their events in ${input.archiveDir}`,
  );
  const untouched = plan?.untouched.map((entry) => entry.cause).join(', ');
  const notDone = outcome?.steps.reduce((sum, step) => sum + step.failures.length, 0) ?? 0;
  lines.push(
    `kept:   finished migrations (history); ${untouched ? `causes no command fixes, left to their remediation: ${untouched}` : 'no cause left untouched'}` +
      (notDone > 0 ? `; ${notDone} planned action(s) not done (listed above)` : ''),
  );
  lines.push(
    verdict === undefined
      ? 'alert:  not validated'
      : `alert:  ${verdict.cleared ? 'cleared' : 'NOT cleared'}: ${diagnosis?.failedLaunchers ?? '?'} Failed launchers before, ${verdict.apiCount ?? '?'} after (threshold ${verdict.threshold}, held ${formatDuration(verdict.clearForMs)})`,
  );
  lines.push(
    `time:   ${input.timings.map((timing) => `${timing.step} ${formatDuration(timing.ms)}`).join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}
