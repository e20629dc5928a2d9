import { StuckfailedError } from '../errors.js';

// KubeVirt builds every alert's runbook_url as fmt.Sprintf(template, alertName) and panics when the template (env
// RUNBOOK_URL_TEMPLATE) does not hold exactly one %s (kubevirt pkg/monitoring/rules/alerts/alerts.go). HCO does the same
// with the OpenShift runbooks repository (hyperconverged-cluster-operator controllers/alerts/alerts.go). We follow suit.

export const RUNBOOK_URL_PRESETS = {
  upstream: 'https://kubevirt.io/monitoring/runbooks/%s',
  openshift:
    'https://github.com/openshift/runbooks/blob/master/alerts/openshift-virtualization-operator/%s.md',
} as const;

export type RunbookUrlPreset = keyof typeof RUNBOOK_URL_PRESETS;

/** The template the rule file itself carries: its runbook URLs are upstream's. */
export const SOURCE_RUNBOOK_URL_TEMPLATE: string = RUNBOOK_URL_PRESETS.upstream;

/** A preset name or a template; a template must contain exactly one %s, where the runbook name goes. */
export function resolveRunbookUrlTemplate(value: string): string {
  const template = value in RUNBOOK_URL_PRESETS ? RUNBOOK_URL_PRESETS[value as RunbookUrlPreset] : value;
  const placeholders = template.split('%s').length - 1;
  if (placeholders !== 1) {
    throw new StuckfailedError(
      'USAGE',
      `--runbook-url-template must be ${Object.keys(RUNBOOK_URL_PRESETS).join(' or ')} or contain exactly one %s ` +
        `(found ${placeholders} in "${value}")`,
    );
  }
  return template;
}

export function formatRunbookUrl(template: string, runbookName: string): string {
  return template.replace('%s', runbookName);
}

/** The runbook name in a URL built from `template`, or undefined when the URL was not built from it. */
export function runbookNameFromUrl(template: string, url: string): string | undefined {
  const [prefix = '', suffix = ''] = template.split('%s');
  if (url.length <= prefix.length + suffix.length || !url.startsWith(prefix) || !url.endsWith(suffix)) {
    return undefined;
  }
  const name = url.slice(prefix.length, url.length - suffix.length);
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : undefined;
}
