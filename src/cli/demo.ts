import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Option } from 'commander';
import { DEFAULT_SAMPLES, DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/index.js';
import { startSimulator } from '../sim/index.js';
import { SCENARIO_NAMES, type ScenarioName } from '../sim/scenarios/types.js';
import { plural } from '../util/plural.js';
import type { RegisterCommand } from './commands.js';
import { runDiagnose } from './diagnose.js';
import { outputOption, parsePositiveInt } from './flags.js';

interface DemoFlags {
  scenario: ScenarioName;
  failed: number;
  namespaces: number;
  nodes: number;
  seed: number;
  output: ReportFormat;
  bundle?: string;
}

/**
 * The main job (`npm start`): a simulated incident on an embedded cluster, diagnosed end to end by the same code path
 * as `stuckfailed diagnose` against a real API server, so the demo shows what a user gets.
 */
export const registerDemoCommand: RegisterCommand = (program, context) => {
  program
    .command('demo')
    .description(
      'Lay down a simulated incident on an embedded cluster (no real cluster needed) and diagnose it end to end. ' +
        'The report is what `stuckfailed diagnose` prints against a real cluster.',
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
    .addOption(outputOption(REPORT_FORMATS, 'text'))
    .addOption(new Option('--bundle <file>', 'also write the support bundle (tar.gz)'))
    .action(async (flags: DemoFlags) => {
      const { io } = context;
      const dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-demo-'));
      const sim = await startSimulator({
        scenario: flags.scenario,
        failed: flags.failed,
        namespaces: flags.namespaces,
        nodes: flags.nodes,
        seed: flags.seed,
      });
      try {
        const kubeconfig = path.join(dir, 'kubeconfig');
        await sim.writeKubeconfig(kubeconfig);
        io.stderr.write(
          `Simulated cluster at ${sim.url}: scenario ${flags.scenario}, ${plural(flags.failed, 'Failed virt-launcher pod')} ` +
            `in ${plural(flags.namespaces, 'namespace')} on ${plural(flags.nodes, 'node')}. Diagnosing...\n\n`,
        );
        await runDiagnose(
          {
            kubeconfig,
            threshold: DEFAULT_THRESHOLD,
            samples: DEFAULT_SAMPLES,
            output: flags.output,
            ...(flags.bundle === undefined ? {} : { bundle: flags.bundle }),
          },
          context,
        );
        io.stderr.write(
          '\nTo explore this cluster yourself:\n' +
            `  stuckfailed sim --scenario ${flags.scenario} --failed ${flags.failed} --seed ${flags.seed} --kubeconfig-out sim.kubeconfig\n` +
            '  KUBECONFIG=sim.kubeconfig kubectl get pods -A -l kubevirt.io=virt-launcher --field-selector=status.phase=Failed\n' +
            '  KUBECONFIG=sim.kubeconfig stuckfailed diagnose -o html > report.html\n',
        );
      } finally {
        await sim.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
};
