import { ApiError, describeRule, type RbacRule } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import { StuckfailedError } from '../errors.js';
import type { ApplyContext, PlanStep, StepExecutor, StepOutcome } from './plan.js';

// The pre-flight check of a plan: before its first write, the API server is asked (SelfSubjectAccessReview, as
// `kubectl auth can-i` does) whether every request the plan's steps will send is allowed. Without it, a service
// account that may delete migrations but not patch VMs would cancel the migrations, then stop at the pause with
// half of the mitigation done; with it, the plan is refused whole, naming every missing rule.

/** Denied rules listed in the message; the rest are counted. */
const LISTED = 10;

/** An executor that declares the RBAC rules of its requests. */
export type CheckedExecutor = StepExecutor & { access: NonNullable<StepExecutor['access']> };

/** An executor and the RBAC rules its requests need for a step. */
export function withAccess(
  run: (step: PlanStep, context: ApplyContext) => Promise<StepOutcome>,
  access: CheckedExecutor['access'],
): CheckedExecutor {
  return Object.assign(run, { access });
}

/** The namespaces of a step's targets, each once. */
export function targetNamespaces(step: PlanStep): string[] {
  return [...new Set(step.targets.map((target) => target.namespace))];
}

/** One rule per verb and namespace (undefined: cluster-wide). */
export function rulesIn(
  namespaces: readonly (string | undefined)[],
  group: string,
  resource: string,
  verbs: readonly string[],
): RbacRule[] {
  return namespaces.flatMap((namespace) =>
    verbs.map((verb) => ({ verb, resource, group, ...(namespace === undefined ? {} : { namespace }) })),
  );
}

export type AccessCheck = { checked: true } | { checked: false; why: string };

/**
 * Asks about each rule, and throws FORBIDDEN naming every one denied. A rule needed in several namespaces is asked
 * once cluster-wide first (one request when a ClusterRole grants it), then per namespace only when that is denied
 * (RoleBindings). A server that does not answer access reviews (404, or 403 where even those are refused) leaves
 * the plan unchecked: its first refused request still stops it, as it would have without this check.
 */
export async function checkAccess(api: KubeApi, rules: readonly RbacRule[]): Promise<AccessCheck> {
  const byRule = new Map<
    string,
    { rule: Omit<RbacRule, 'namespace'>; namespaces: Set<string | undefined> }
  >();
  for (const { namespace, ...rule } of rules) {
    const key = `${rule.verb} ${rule.group} ${rule.resource}`;
    const entry = byRule.get(key) ?? { rule, namespaces: new Set() };
    entry.namespaces.add(namespace);
    byRule.set(key, entry);
  }
  const allowed = async (rule: RbacRule) => (await api.reviewAccess(rule)).allowed;
  try {
    const denied = await Promise.all(
      [...byRule.values()].map(async ({ rule, namespaces }): Promise<RbacRule[]> => {
        const [only] = namespaces;
        if (namespaces.size === 1) {
          const asked = only === undefined ? rule : { ...rule, namespace: only };
          return (await allowed(asked)) ? [] : [asked];
        }
        if (namespaces.has(undefined)) return (await allowed(rule)) ? [] : [rule];
        if (await allowed(rule)) return [];
        const each = [...namespaces].map((namespace) => ({ ...rule, namespace: namespace as string }));
        const answers = await Promise.all(each.map(allowed));
        return each.filter((_, index) => !answers[index]);
      }),
    ).then((lists) => lists.flat());
    if (denied.length > 0) {
      const lines = denied.slice(0, LISTED).map((rule) => `  - ${describeRule(rule)}`);
      if (denied.length > LISTED) lines.push(`  - and ${denied.length - LISTED} more`);
      throw new StuckfailedError(
        'FORBIDDEN',
        `the API server at ${api.server} would refuse part of this plan, so none of it was started; the missing RBAC rules:\n${lines.join('\n')}`,
      );
    }
    return { checked: true };
  } catch (error) {
    if (error instanceof ApiError && (error.statusCode === 404 || error.statusCode === 403)) {
      return { checked: false, why: error.message };
    }
    throw error;
  }
}
