import { type Command, InvalidArgumentError, Option } from 'commander';
import { renderPrometheusRule, renderRuleFile } from '../rules/render-rules.js';
import { loadRuleFile } from '../rules/rule-file.js';
import { RUNBOOK_URL_PRESETS, resolveRunbookUrlTemplate } from '../rules/runbook-url.js';
import type { RegisterCommand } from './commands.js';
import { outputOption } from './flags.js';

const RULES_FORMATS = ['prometheus', 'prometheusrule'] as const;
type RulesFormat = (typeof RULES_FORMATS)[number];

interface RulesFlags {
  output: RulesFormat;
  name: string;
  namespace?: string;
  label: Record<string, string>;
  runbookUrlTemplate: string;
}

// Kubernetes label syntax (apimachinery validation.IsQualifiedName / IsValidLabelValue): an optional DNS-subdomain
// prefix, a name of at most 63 characters; values at most 63 characters, alphanumeric at both ends.
const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function collectLabel(value: string, previous: Record<string, string>): Record<string, string> {
  const separator = value.indexOf('=');
  const key = separator < 0 ? value : value.slice(0, separator);
  const labelValue = separator < 0 ? '' : value.slice(separator + 1);
  if (separator < 0 || !LABEL_NAME.test(key) || !LABEL_VALUE.test(labelValue)) {
    throw new InvalidArgumentError(`expected key=value with a valid Kubernetes label, got "${value}"`);
  }
  return { ...previous, [key]: labelValue };
}

export const registerRulesCommand: RegisterCommand = (program: Command, context) => {
  program
    .command('rules')
    .description(
      'Print the Prometheus rules behind the alert: the recording rule the runbook names, the alert, its early ' +
        "warning and the runbook's breakdowns, as a rule file or a PrometheusRule (see docs/RULES.md).",
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  stuckfailed rules > stuckfailed.rules.yaml',
        '  stuckfailed rules -o prometheusrule -n monitoring --label release=kube-prometheus-stack \\',
        '    | kubectl apply -f -',
        '  stuckfailed rules -o prometheusrule -n stuckfailed --runbook-url-template openshift | oc apply -f -',
      ].join('\n'),
    )
    .addOption(outputOption(RULES_FORMATS, 'prometheus'))
    .addOption(new Option('--name <name>', 'PrometheusRule metadata.name').default('stuckfailed'))
    .addOption(new Option('-n, --namespace <namespace>', 'PrometheusRule metadata.namespace (default: none)'))
    .addOption(
      new Option('--label <key=value>', 'PrometheusRule metadata.labels entry; repeat for more')
        .argParser(collectLabel)
        .default({}, 'none'),
    )
    .addOption(
      new Option(
        '--runbook-url-template <template>',
        `runbook URL: ${Object.keys(RUNBOOK_URL_PRESETS).join(', ')}, or a URL with exactly one %s for the runbook name`,
      )
        .env('STUCKFAILED_RUNBOOK_URL_TEMPLATE')
        .default('upstream'),
    )
    .action(async (flags: RulesFlags) => {
      const runbookUrlTemplate = resolveRunbookUrlTemplate(flags.runbookUrlTemplate);
      const loaded = await loadRuleFile();
      const text =
        flags.output === 'prometheus'
          ? renderRuleFile(loaded, { runbookUrlTemplate })
          : renderPrometheusRule(loaded.rules, {
              name: flags.name,
              ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
              labels: flags.label,
              runbookUrlTemplate,
            });
      context.io.stdout.write(text);
    });
};
