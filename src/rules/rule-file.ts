import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { StuckfailedError } from '../errors.js';

// A Prometheus rule file (https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/), the fields this
// project writes. Strict objects: a misspelt key (`anotations`) is an error here instead of a silently ignored field.

const labelMap = z.record(z.string(), z.string());
const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'a Prometheus duration such as 10m');

export const recordingRuleSchema = z.strictObject({
  record: z.string().min(1),
  expr: z.string().min(1),
  labels: labelMap.optional(),
});

export const alertingRuleSchema = z.strictObject({
  alert: z.string().min(1),
  expr: z.string().min(1),
  for: duration.optional(),
  keep_firing_for: duration.optional(),
  labels: labelMap.optional(),
  annotations: labelMap.optional(),
});

export const ruleGroupSchema = z.strictObject({
  name: z.string().min(1),
  interval: duration.optional(),
  limit: z.number().int().nonnegative().optional(),
  rules: z.array(z.union([recordingRuleSchema, alertingRuleSchema])).min(1),
});

export const ruleFileSchema = z.strictObject({ groups: z.array(ruleGroupSchema).min(1) });

export type RecordingRule = z.infer<typeof recordingRuleSchema>;
export type AlertingRule = z.infer<typeof alertingRuleSchema>;
export type Rule = RecordingRule | AlertingRule;
export type RuleGroup = z.infer<typeof ruleGroupSchema>;
export type RuleFile = z.infer<typeof ruleFileSchema>;

/** The rule file as written, comments included, beside the validated rules. */
export interface LoadedRuleFile {
  path: string;
  text: string;
  rules: RuleFile;
}

/**
 * rules/stuckfailed.rules.yaml, the source of truth. Resolved from this module: src/rules/ under tsx and the bundle's
 * dist/bin/ once built are both two levels below the package root, where `rules/` ships (package.json "files").
 */
export const DEFAULT_RULE_FILE_PATH: string = fileURLToPath(
  new URL('../../rules/stuckfailed.rules.yaml', import.meta.url),
);

export function isAlertingRule(rule: Rule): rule is AlertingRule {
  return 'alert' in rule;
}

export function isRecordingRule(rule: Rule): rule is RecordingRule {
  return 'record' in rule;
}

export function allRules(file: RuleFile): Rule[] {
  return file.groups.flatMap((group) => group.rules);
}

export interface LoadRuleFileOptions {
  path?: string;
  readText?: (path: string) => Promise<string>;
}

export async function loadRuleFile(options: LoadRuleFileOptions = {}): Promise<LoadedRuleFile> {
  const path = options.path ?? DEFAULT_RULE_FILE_PATH;
  const readText = options.readText ?? ((file: string) => readFile(file, 'utf8'));
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    throw new StuckfailedError('INPUT', `cannot read the rule file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { path, text, rules: parseRuleFile(text, path) };
}

/** Parses and validates rule file text; `source` names it in errors. */
export function parseRuleFile(text: string, source: string): RuleFile {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new StuckfailedError('INPUT', `${source} is not valid YAML: ${document.errors[0]?.message}`);
  }
  const parsed = ruleFileSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StuckfailedError(
      'INPUT',
      `${source} is not a Prometheus rule file: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
