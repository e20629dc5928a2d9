import { isMap, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import { StuckfailedError } from '../errors.js';
import { isAlertingRule, type LoadedRuleFile, type RuleFile } from './rule-file.js';
import { formatRunbookUrl, runbookNameFromUrl, SOURCE_RUNBOOK_URL_TEMPLATE } from './runbook-url.js';

/** An alert's runbook_url rebuilt with `template` when the file's URL came from upstream's template; others stay. */
function rewriteRunbookUrl(url: string, template: string): string {
  const runbookName = runbookNameFromUrl(SOURCE_RUNBOOK_URL_TEMPLATE, url);
  return runbookName === undefined ? url : formatRunbookUrl(template, runbookName);
}

/** The rules with every alert's runbook URL built from `template` (pure: the input is not changed). */
export function applyRunbookUrlTemplate(file: RuleFile, template: string): RuleFile {
  return {
    groups: file.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => {
        const url = isAlertingRule(rule) ? rule.annotations?.runbook_url : undefined;
        if (!isAlertingRule(rule) || url === undefined) return rule;
        return {
          ...rule,
          annotations: { ...rule.annotations, runbook_url: rewriteRunbookUrl(url, template) },
        };
      }),
    })),
  };
}

export interface RenderRuleFileOptions {
  runbookUrlTemplate: string;
}

/**
 * `-o prometheus`: the rule file as shipped, byte for byte (its comments are documentation too), except the runbook
 * URLs, rebuilt from the template. The URLs are spliced in at the source offsets the YAML parser reports, so that
 * re-serialising cannot re-fold the annotations or drop a comment.
 */
export function renderRuleFile(loaded: LoadedRuleFile, options: RenderRuleFileOptions): string {
  const document = parseDocument(loaded.text);
  const groups = document.get('groups');
  if (!isSeq(groups)) throw new StuckfailedError('INPUT', `${loaded.path} has no groups`);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const group of groups.items) {
    const rules = isMap(group) ? group.get('rules') : undefined;
    if (!isSeq(rules)) continue;
    for (const rule of rules.items) {
      const annotations = isMap(rule) ? rule.get('annotations') : undefined;
      const node = isMap(annotations) ? annotations.get('runbook_url', true) : undefined;
      if (
        !isScalar(node) ||
        typeof node.value !== 'string' ||
        node.range === undefined ||
        node.range === null
      )
        continue;
      const url = rewriteRunbookUrl(node.value, options.runbookUrlTemplate);
      const [start, end] = node.range;
      edits.push({ start, end, text: /^[\w:/.%#?=&~+-]+$/.test(url) ? url : JSON.stringify(url) });
    }
  }
  let text = loaded.text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  }
  return text;
}

export interface PrometheusRuleOptions {
  name: string;
  /** Omitted from the manifest when undefined: `kubectl apply -n` (or the current context) decides. */
  namespace?: string;
  /** metadata.labels: what the Prometheus ruleSelector matches (kube-prometheus-stack: `release: <name>`). */
  labels: Record<string, string>;
  runbookUrlTemplate: string;
}

export interface PrometheusRuleManifest {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PrometheusRule';
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: RuleFile;
}

export function buildPrometheusRule(file: RuleFile, options: PrometheusRuleOptions): PrometheusRuleManifest {
  const metadata: PrometheusRuleManifest['metadata'] = { name: options.name };
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  if (Object.keys(options.labels).length > 0) metadata.labels = { ...options.labels };
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata,
    spec: applyRunbookUrlTemplate(file, options.runbookUrlTemplate),
  };
}

/** `-o prometheusrule`: a monitoring.coreos.com/v1 PrometheusRule manifest, ready for kubectl apply -f -. */
export function renderPrometheusRule(file: RuleFile, options: PrometheusRuleOptions): string {
  return stringify(buildPrometheusRule(file, options), { lineWidth: 0, blockQuote: 'literal' });
}
