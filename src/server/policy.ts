// The service's policy (`serve --policy FILE`): per cause, which actions may run, whether on their own or only after
// a person approves, and how large a run may be. Without a file, serve diagnoses and acts only on approval.
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { CAUSE_CATEGORIES, type CauseCategory } from '../diagnosis/types.js';
import { StuckfailedError } from '../errors.js';
import type { Plan, PlanAction, PlanStep } from '../mitigation/plan.js';

/** The actions a policy governs (validate only reads, so it always may run). */
export const POLICY_ACTIONS = ['cancel-migrations', 'pause', 'clean'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** automatic: runs without a person; approval: runs once approved; never: not planned, not run. */
export const ACTION_MODES = ['automatic', 'approval', 'never'] as const;
export type ActionMode = (typeof ACTION_MODES)[number];

const capsSchema = z.strictObject({
  /** Pods one run may delete (all clean steps of the cause together). */
  podsPerRun: z.number().int().positive().optional(),
  /** Pods one run may delete in any one namespace. */
  podsPerNamespace: z.number().int().positive().optional(),
  /** VMs one run may pause. */
  vmsPaused: z.number().int().positive().optional(),
});
export type PolicyCaps = z.infer<typeof capsSchema>;

const causePolicySchema = z.strictObject({
  actions: z.partialRecord(z.enum(POLICY_ACTIONS), z.enum(ACTION_MODES)).default({}),
  caps: capsSchema.default({}),
});
export type CausePolicy = z.infer<typeof causePolicySchema>;

const policySchema = z.strictObject({
  /** Causes not listed under `causes`. */
  default: causePolicySchema.optional(),
  causes: z.partialRecord(z.enum(CAUSE_CATEGORIES), causePolicySchema).default({}),
});

export interface Policy {
  /** Where it came from, for the audit trail: a file path, or `default` when none was given. */
  source: string;
  default: CausePolicy;
  causes: Partial<Record<CauseCategory, CausePolicy>>;
}

/** Every action, only after approval, no caps: what serve does without --policy. */
export const APPROVAL_ONLY: CausePolicy = {
  actions: { 'cancel-migrations': 'approval', pause: 'approval', clean: 'approval' },
  caps: {},
};

export function defaultPolicy(): Policy {
  return { source: 'default', default: APPROVAL_ONLY, causes: {} };
}

export function causePolicy(policy: Policy, cause: CauseCategory | 'operator'): CausePolicy {
  return (cause === 'operator' ? undefined : policy.causes[cause]) ?? policy.default;
}

/** How the policy lets an action of a cause run; an action the cause's entry does not list never runs. */
export function actionMode(
  policy: Policy,
  cause: CauseCategory | 'operator',
  action: PlanAction,
): ActionMode {
  if (action === 'validate') return 'automatic';
  return causePolicy(policy, cause).actions[action] ?? 'never';
}

export interface PlanVerdict {
  /** Every writing step may run without a person, within its caps. */
  automatic: boolean;
  /** Why the plan cannot run as it is (an action the policy forbids, a cap exceeded); empty when it can. */
  violations: string[];
}

function isWriting(step: PlanStep): boolean {
  return step.action !== 'validate';
}

/** Checks a plan against the policy: what a person may approve, and what may run on its own. */
export function judgePlan(policy: Policy, plan: Plan): PlanVerdict {
  const violations: string[] = [];
  let automatic = plan.steps.some(isWriting);
  const podsByCause = new Map<string, { total: number; byNamespace: Map<string, number> }>();
  const vmsByCause = new Map<string, number>();
  for (const step of plan.steps) {
    if (!isWriting(step)) continue;
    const mode = actionMode(policy, step.reason.cause, step.action);
    if (mode === 'never') {
      violations.push(
        `step ${step.id}: the policy does not allow ${step.action} for cause ${step.reason.cause}`,
      );
    }
    if (mode !== 'automatic') automatic = false;
    for (const target of step.targets) {
      if (step.action === 'clean' && target.kind === 'Pod') {
        const pods = podsByCause.get(step.reason.cause) ?? { total: 0, byNamespace: new Map() };
        pods.total += 1;
        pods.byNamespace.set(target.namespace, (pods.byNamespace.get(target.namespace) ?? 0) + 1);
        podsByCause.set(step.reason.cause, pods);
      }
      if (step.action === 'pause' && target.kind === 'VirtualMachine') {
        vmsByCause.set(step.reason.cause, (vmsByCause.get(step.reason.cause) ?? 0) + 1);
      }
    }
  }
  for (const [cause, pods] of podsByCause) {
    const { caps } = causePolicy(policy, cause as CauseCategory);
    if (caps.podsPerRun !== undefined && pods.total > caps.podsPerRun) {
      violations.push(
        `cause ${cause}: ${pods.total} pods to clean, over the cap podsPerRun=${caps.podsPerRun}`,
      );
    }
    if (caps.podsPerNamespace !== undefined) {
      for (const [namespace, count] of pods.byNamespace) {
        if (count > caps.podsPerNamespace) {
          violations.push(
            `cause ${cause}: ${count} pods to clean in ${namespace}, over the cap podsPerNamespace=${caps.podsPerNamespace}`,
          );
        }
      }
    }
  }
  for (const [cause, vms] of vmsByCause) {
    const { caps } = causePolicy(policy, cause as CauseCategory);
    if (caps.vmsPaused !== undefined && vms > caps.vmsPaused) {
      violations.push(`cause ${cause}: ${vms} VMs to pause, over the cap vmsPaused=${caps.vmsPaused}`);
    }
  }
  return { automatic: automatic && violations.length === 0, violations };
}

/** Parses a policy document; every error names the line (and the file) it comes from. */
export function parsePolicy(text: string, source: string): Policy {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  const [yamlError] = document.errors;
  if (yamlError !== undefined) {
    const line = yamlError.linePos?.[0].line;
    throw new StuckfailedError(
      'INPUT',
      `${source}${line === undefined ? '' : `:${line}`}: not valid YAML: ${yamlError.message.split('\n')[0]}`,
    );
  }
  const parsed = policySchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    const messages = parsed.error.issues.slice(0, 5).map((issue) => {
      let path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
      if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path = [...path, issue.keys[0]];
      const line = lineOf(document, lineCounter, path);
      const where = path.length > 0 ? `${path.join('.')}: ` : '';
      return `${source}${line === undefined ? '' : `:${line}`}: ${where}${issue.message}`;
    });
    throw new StuckfailedError('INPUT', `invalid policy: ${messages.join('; ')}`);
  }
  return {
    source,
    default: parsed.data.default ?? APPROVAL_ONLY,
    causes: parsed.data.causes,
  };
}

/** The line of the deepest key of `path` present in the document (for a missing key: its parent's). */
function lineOf(
  document: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: Array<string | number>,
): number | undefined {
  for (let depth = path.length; depth > 0; depth -= 1) {
    const parent = depth === 1 ? document.contents : document.getIn(path.slice(0, depth - 1), true);
    const key = path[depth - 1];
    let range: [number, number, number] | null | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
      range = pair && isScalar(pair.key) ? pair.key.range : undefined;
    } else if (isSeq(parent) && typeof key === 'number') {
      range = (parent.items[key] as { range?: [number, number, number] } | undefined)?.range;
    }
    if (range) return lineCounter.linePos(range[0]).line;
  }
  const range = document.contents?.range;
  return range ? lineCounter.linePos(range[0]).line : undefined;
}

export async function loadPolicy(file: string | undefined): Promise<Policy> {
  if (file === undefined) return defaultPolicy();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StuckfailedError('INPUT', `cannot read the policy file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parsePolicy(text, file);
}
