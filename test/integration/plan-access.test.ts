// The pre-flight access check of the writing commands, against the simulator's RBAC authorizer. The rules each
// executor declares are proven both ways: granted exactly those (Roles built from the declarations, nothing else),
// an identity runs the whole mitigation plan with no request refused; with any one of them taken away, the plan is
// refused before its first write, naming that rule, and the cluster and the working directory are left as they were.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { describeRule, type RbacRule } from '../../src/cluster/api-error.js';
import { openKubeApi } from '../../src/cluster/open-reader.js';
import { StuckfailedError } from '../../src/errors.js';
import { applyPlan, checkPlanAccess } from '../../src/mitigation/apply-plan.js';
import { mitigationExecutors } from '../../src/mitigation/mitigation-plan.js';
import type { ApplyContext, JournalEntry, Plan } from '../../src/mitigation/plan.js';
import { type RunningSimulator, serviceAccountContext, startSimulator } from '../../src/sim/index.js';
import { addPolicyObject, emptyPolicy, type RbacPolicy } from '../../src/sim/rbac.js';

const ACCOUNT = { namespace: 'stuckfailed', name: 'exact' };
const GRANT = 'exact-grant';

let sim: RunningSimulator;
let policy: RbacPolicy;
let dir: string;
let kubeconfig: string;
let plan: Plan;

async function run(args: string[]) {
  const memory = memoryIo();
  const code = await main(args, memory.io);
  return { code, stdout: memory.stdout(), stderr: memory.stderr() };
}

/** Replaces what the account may do with exactly these rules: a ClusterRole for cluster-wide ones, Roles else. */
function grant(rules: readonly RbacRule[]): void {
  policy.clusterRoles.delete(GRANT);
  for (const key of [...policy.roles.keys()]) if (key.endsWith(`/${GRANT}`)) policy.roles.delete(key);
  policy.clusterRoleBindings = policy.clusterRoleBindings.filter((binding) => binding.name !== GRANT);
  policy.roleBindings = policy.roleBindings.filter((binding) => binding.name !== GRANT);
  const byNamespace = new Map<string | undefined, RbacRule[]>();
  for (const rule of rules)
    byNamespace.set(rule.namespace, [...(byNamespace.get(rule.namespace) ?? []), rule]);
  for (const [namespace, granted] of byNamespace) {
    const kind = namespace === undefined ? 'ClusterRole' : 'Role';
    const metadata = namespace === undefined ? { name: GRANT } : { name: GRANT, namespace };
    addPolicyObject(
      policy,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind,
        metadata,
        rules: granted.map((rule) => ({
          apiGroups: [rule.group],
          resources: [rule.resource],
          verbs: [rule.verb],
        })),
      },
      'test',
    );
    addPolicyObject(
      policy,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: `${kind}Binding`,
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: GRANT },
        subjects: [{ kind: 'ServiceAccount', ...ACCOUNT }],
      },
      'test',
    );
  }
}

function accountApi() {
  return openKubeApi({
    kubeconfig,
    context: serviceAccountContext(ACCOUNT.namespace, ACCOUNT.name),
    env: {},
    qps: 0,
  }).api;
}

function declaredRules(archiveDir: string | undefined, dryRun: ApplyContext['dryRun'] = 'none'): RbacRule[] {
  const executors = mitigationExecutors({ archiveDir });
  const unique = new Map<string, RbacRule>();
  for (const step of plan.steps) {
    for (const rule of executors[step.action].access(step, { dryRun })) unique.set(describeRule(rule), rule);
  }
  return [...unique.values()];
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-plan-access-'));
  policy = emptyPolicy();
  addPolicyObject(policy, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: ACCOUNT }, 'test');
  sim = await startSimulator({ scenario: 'mixed', failed: 30, namespaces: 3, nodes: 3, rbac: policy });
  kubeconfig = path.join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  // The plan as the cluster admin (the kubeconfig's default context) sees it: every step the runbook has. A few VMs
  // are paused (those with 2 Failed launchers or more), so that the cleanup still has launchers of its own to delete.
  const planned = await run([
    'mitigate',
    '--kubeconfig',
    kubeconfig,
    '-A',
    '--pause-min-failed',
    '2',
    '-o',
    'json',
  ]);
  assert.equal(planned.code, 0, planned.stderr);
  plan = JSON.parse(planned.stdout) as Plan;
  const actions = plan.steps.map((step) => step.action);
  for (const action of ['cancel-migrations', 'pause', 'clean', 'validate'] as const) {
    assert.ok(actions.includes(action), `the plan has a ${action} step: ${actions.join(', ')}`);
  }
});

after(async () => {
  await sim?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('plan access: the rules each executor declares', () => {
  it('are what SelfSubjectAccessReview answers for, per namespace and cluster-wide', async () => {
    const rules = declaredRules(path.join(dir, 'unused'));
    const namespaced = rules.filter((rule) => rule.namespace !== undefined);
    assert.ok(namespaced.length > 0 && namespaced.length < rules.length, 'both kinds of rules are declared');
    grant(rules);
    const api = accountApi();
    try {
      for (const rule of rules) {
        const decision = await api.reviewAccess(rule);
        assert.equal(decision.allowed, true, describeRule(rule));
        assert.match(decision.reason, /^RBAC: allowed by (Cluster)?RoleBinding "exact-grant/);
      }
      // Cluster-wide, a namespaced grant is not enough; in a namespace the plan does not touch, neither.
      const { namespace: _granted, ...first } = namespaced[0] as RbacRule;
      assert.equal((await api.reviewAccess(first)).allowed, false);
      assert.equal((await api.reviewAccess({ ...first, namespace: 'kube-system' })).allowed, false);
    } finally {
      api.close();
    }
  });
});

describe('plan access: any one rule missing', () => {
  it('refuses the plan before its first write, naming exactly the rules missing', async () => {
    const archiveDir = path.join(dir, 'archive-refused');
    const rules = declaredRules(archiveDir);
    // Each verb and resource taken away in turn, in every namespace it was granted in.
    const kinds = [
      ...new Map(rules.map((rule) => [`${rule.verb} ${rule.group} ${rule.resource}`, rule])).values(),
    ];
    assert.ok(kinds.length >= 8, `several kinds of rules: ${kinds.length}`);
    const api = accountApi();
    try {
      for (const taken of kinds) {
        const sameKind = (rule: RbacRule) =>
          rule.verb === taken.verb && rule.group === taken.group && rule.resource === taken.resource;
        grant(rules.filter((rule) => !sameKind(rule)));
        const before = sim.stats().requests;
        const what = `without ${describeRule(taken)}`;
        await assert.rejects(
          checkPlanAccess(plan, mitigationExecutors({ archiveDir }), { api, dryRun: 'none' }),
          (error: unknown) => {
            assert.ok(error instanceof StuckfailedError && error.code === 'FORBIDDEN', what);
            const listed = error.message.split('\n').filter((line) => line.startsWith('  - '));
            // A rule needed cluster-wide is named once: granting it covers every namespace.
            const missing = rules.filter(sameKind);
            const clusterWide = missing.filter((rule) => rule.namespace === undefined);
            assert.deepEqual(
              listed,
              (clusterWide.length > 0 ? clusterWide : missing).map((rule) => `  - ${describeRule(rule)}`),
              what,
            );
            return true;
          },
        );
        // Only access reviews were sent: nothing read, nothing written, no archive.
        const sent = sim.stats().requests - before;
        assert.equal(sim.stats().byResource.selfsubjectaccessreviews !== undefined, true);
        assert.ok(sent <= rules.length + kinds.length, `${what}: ${sent} requests`);
      }
      assert.equal(existsSync(archiveDir), false);
    } finally {
      api.close();
    }
  });

  it('clean --yes: exit 3 naming the rule, and neither a delete, an archive nor a journal', async () => {
    const workdir = await mkdtemp(path.join(dir, 'clean-'));
    // What clean's plan reads (its list of Failed launchers), and what archiving reads, but no delete.
    grant([
      { verb: 'list', group: '', resource: 'pods' },
      { verb: 'get', group: '', resource: 'pods' },
      { verb: 'list', group: '', resource: 'events' },
    ]);
    const deletes = sim.stats().byVerb.delete ?? 0;
    const result = await run([
      'clean',
      '--kubeconfig',
      kubeconfig,
      '--context',
      serviceAccountContext(ACCOUNT.namespace, ACCOUNT.name),
      '-A',
      '--yes',
      '--archive',
      path.join(workdir, 'archive'),
    ]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stderr,
      /would refuse part of this plan, so none of it was started; the missing RBAC rules:/,
    );
    // The namespaces are many and none grants delete: one line each, in order.
    assert.match(
      result.stderr,
      /\n {2}- verb "delete" on "pods" \(API group ""\) in namespace "[a-z0-9-]+"\n/,
    );
    assert.doesNotMatch(result.stderr, /journal/);
    assert.equal(sim.stats().byVerb.delete ?? 0, deletes);
    assert.deepEqual(await readdir(workdir), []);
  });
});

describe('plan access: impersonation', () => {
  it("a kubeconfig's `as:` runs the check as the user impersonated, not as the admin whose token it sends", async () => {
    grant([{ verb: 'list', group: '', resource: 'pods' }]);
    const config = parseYaml(await readFile(kubeconfig, 'utf8')) as {
      users: Array<{ name: string; user: Record<string, unknown> }>;
    };
    // The admin's credentials, acting as the account (kubectl --as does the same with Impersonate-User).
    for (const entry of config.users)
      entry.user.as = `system:serviceaccount:${ACCOUNT.namespace}:${ACCOUNT.name}`;
    const impersonating = path.join(dir, 'impersonating');
    await writeFile(impersonating, stringifyYaml(config));
    const deletes = sim.stats().byVerb.delete ?? 0;
    const result = await run(['clean', '--kubeconfig', impersonating, '-A', '--yes', '--no-archive']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /the missing RBAC rules:\n/);
    assert.match(result.stderr, /\n {2}- verb "delete" on "pods" \(API group ""\) in namespace "web-vms"\n/);
    assert.equal(sim.stats().byVerb.delete ?? 0, deletes);
  });
});

describe('plan access: --as and --as-group', () => {
  it('act as the user and groups named, one Impersonate-Group line per group, as kubectl does', async () => {
    grant([{ verb: 'list', group: '', resource: 'pods' }]);
    const asAccount = `system:serviceaccount:${ACCOUNT.namespace}:${ACCOUNT.name}`;
    const deletes = sim.stats().byVerb.delete ?? 0;
    const refused = await run([
      'clean',
      '--kubeconfig',
      kubeconfig,
      '--as',
      asAccount,
      '-A',
      '--yes',
      '--no-archive',
    ]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /\n {2}- verb "delete" on "pods" \(API group ""\) in namespace "web-vms"\n/);
    assert.equal(sim.stats().byVerb.delete ?? 0, deletes);
    // Nobody may list pods, but a member of system:masters may: the second group counts only as a line of its own.
    const watch = (...identity: string[]) =>
      run(['watch', '--once', '--kubeconfig', kubeconfig, '-A', ...identity]);
    const nobody = await watch('--as', 'nobody');
    assert.equal(nobody.code, 3, nobody.stderr);
    assert.match(nobody.stderr, /User "nobody" cannot list resource "pods"/);
    const masters = await watch('--as', 'nobody', '--as-group', 'devs', '--as-group', 'system:masters');
    assert.notEqual(masters.code, 3, masters.stderr);
    const groupOnly = await watch('--as-group', 'system:masters');
    assert.equal(groupOnly.code, 2);
    assert.match(groupOnly.stderr, /--as-group needs --as/);
  });
});

// Last: the run deletes the launchers the other tests plan with.
describe('plan access: granted exactly the declared rules', () => {
  it('are all a run needs: granted exactly those, the identity runs the whole plan with nothing refused', async () => {
    const archiveDir = path.join(dir, 'archive');
    grant(declaredRules(archiveDir));
    const api = accountApi();
    const journal: JournalEntry[] = [];
    // validate with a short window: the cleanup clears the condition at once.
    const quick: Plan = {
      ...plan,
      steps: plan.steps.map((step) =>
        step.action === 'validate'
          ? { ...step, caps: { ...step.caps, windowMs: 500, timeoutMs: 20_000 } }
          : step,
      ),
    };
    const context: ApplyContext = {
      api,
      journal: { append: async (entry) => void journal.push(entry) },
      settled: new Set(),
      dryRun: 'none',
      now: () => new Date(),
    };
    try {
      const executors = mitigationExecutors({ archiveDir });
      await checkPlanAccess(quick, executors, context);
      const outcome = await applyPlan(quick, executors, context);
      const failures = outcome.steps.flatMap((step) => step.failures);
      assert.deepEqual(failures, [], JSON.stringify(failures));
      assert.equal(api.stats().byVerb.delete !== undefined && api.stats().byVerb.patch !== undefined, true);
      for (const step of quick.steps.filter((each) => each.action !== 'validate')) {
        const done = outcome.steps.find((each) => each.step === step.id)?.counts.done ?? 0;
        assert.ok(
          done > 0,
          `${step.id} did some of its ${step.count} targets: ${JSON.stringify(outcome.steps)}`,
        );
      }
      assert.ok((await readdir(archiveDir)).length > 0, 'the archive was written');
    } finally {
      api.close();
    }
  });
});
