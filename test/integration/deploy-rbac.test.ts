// Least privilege, proven: deploy/ rendered by the real kubectl's kustomize, loaded into the simulator's RBAC
// authorizer (`sim --rbac`), and exercised with the ServiceAccount tokens it issues. The read role lists and reads
// what diagnose reads and is refused every write with the apiserver's Forbidden message; the act role allows
// exactly its three writes; the service's own Role covers its Lease and incidents in its namespace only.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeRule } from '../../src/cluster/api-error.js';
import { openKubeApi } from '../../src/cluster/open-reader.js';
import type { Pod } from '../../src/kube/types.js';
import { mitigationExecutors } from '../../src/mitigation/mitigation-plan.js';
import type { PlanAction, PlanStep } from '../../src/mitigation/plan.js';
import { type RunningSimulator, serviceAccountContext, startSimulator } from '../../src/sim/index.js';
import { loadRbacPolicy } from '../../src/sim/rbac.js';
import { decodeObject } from '../../src/sim/store.js';
import { KUBECTL, makeHome, runKubectl } from '../helpers/kubectl.js';
import { runProcess } from '../helpers/run-process.js';

const NAMESPACE = 'stuckfailed';
// Two more identities bound to one ClusterRole each, so that each role is proven alone.
const SPLIT_IDENTITIES = ['read-only', 'act-only']
  .map(
    (name) => `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ${name}, namespace: ${NAMESPACE}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: test-${name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: stuckfailed-${name === 'read-only' ? 'read' : 'act'}}
subjects: [{kind: ServiceAccount, name: ${name}, namespace: ${NAMESPACE}}]
`,
  )
  .join('');

let sim: RunningSimulator;
let dir: string;
let kubeconfig: string;
let tokens: Record<'service' | 'reader' | 'actor', string>;
let failedPod: { namespace: string; name: string };
let migration: { namespace: string; name: string };
let vm: { namespace: string; name: string };

interface Answer {
  status: number;
  body: { message?: string; reason?: string; kind?: string };
}

function call(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Answer> {
  const url = new URL(path, sim.url);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method,
        ca: Buffer.from(sim.caData as string, 'base64'),
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
        timeout: 20_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : {} });
        });
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function forbiddenMessage(
  account: string,
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
  name?: string,
): string {
  const [plural] = resource.split('/');
  const qualified = group === '' ? plural : `${plural}.${group}`;
  const subject = name === undefined ? `${qualified}` : `${qualified} "${name}"`;
  const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  return `${subject} is forbidden: User "system:serviceaccount:${NAMESPACE}:${account}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-deploy-rbac-'));
  const rendered = await runProcess(KUBECTL, ['kustomize', 'deploy'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: await makeHome() },
    timeoutMs: 60_000,
  });
  assert.equal(rendered.code, 0, rendered.stderr);
  await writeFile(path.join(dir, 'deploy.yaml'), rendered.stdout);
  await writeFile(path.join(dir, 'split.yaml'), SPLIT_IDENTITIES);
  const policy = await loadRbacPolicy([path.join(dir, 'deploy.yaml'), path.join(dir, 'split.yaml')]);
  sim = await startSimulator({ scenario: 'mixed', failed: 20, namespaces: 2, nodes: 3, rbac: policy });
  kubeconfig = path.join(dir, 'kubeconfig');
  await sim.writeKubeconfig(kubeconfig);
  const token = (name: string) => sim.serviceAccountTokens.get(`${NAMESPACE}/${name}`) as string;
  tokens = { service: token('stuckfailed'), reader: token('read-only'), actor: token('act-only') };
  const pod = [...sim.store.objects('pods')].find(
    (each) => each.name.startsWith('virt-launcher-') && decodeObject<Pod>(each).status?.phase === 'Failed',
  );
  assert.ok(pod, 'the scenario has a Failed launcher');
  failedPod = { namespace: pod.namespace as string, name: pod.name };
  const vmim = [...sim.store.objects('virtualmachineinstancemigrations')][0];
  const machine = [...sim.store.objects('virtualmachines')][0];
  assert.ok(vmim && machine, 'the scenario has migrations and VMs');
  migration = { namespace: vmim.namespace as string, name: vmim.name };
  vm = { namespace: machine.namespace as string, name: machine.name };
  // The namespace and the CRD are the cluster admin's to apply, as in docs/DEPLOY.md.
  const crd = await runKubectl(['apply', '-f', 'deploy/base/namespace.yaml', '-f', 'deploy/base/crd.yaml'], {
    kubeconfig,
  });
  assert.equal(crd.code, 0, crd.stderr);
});

after(async () => {
  await sim?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// Every request diagnose makes, by resource (src/diagnosis/gather.ts).
function diagnoseReads(): Array<[string, string]> {
  return [
    [
      'pods',
      '/api/v1/pods?labelSelector=kubevirt.io%3Dvirt-launcher&fieldSelector=status.phase%3DFailed&limit=500',
    ],
    ['events', '/api/v1/events?fieldSelector=type%3DWarning&limit=500'],
    [
      'events in a namespace',
      `/api/v1/namespaces/${failedPod.namespace}/events?fieldSelector=type%3DWarning`,
    ],
    ['nodes', '/api/v1/nodes?limit=500'],
    [
      'pods/log',
      `/api/v1/namespaces/${failedPod.namespace}/pods/${failedPod.name}/log?container=compute&tailLines=50`,
    ],
    ['vmims', '/apis/kubevirt.io/v1/virtualmachineinstancemigrations?limit=500'],
    ['vmis', '/apis/kubevirt.io/v1/virtualmachineinstances?limit=500'],
    ['vms', `/apis/kubevirt.io/v1/namespaces/${vm.namespace}/virtualmachines/${vm.name}`],
    ['kubevirts', '/apis/kubevirt.io/v1/kubevirts'],
  ];
}

describe('deploy/ RBAC: the read role', () => {
  it('reads everything diagnose reads', async () => {
    for (const [what, path] of diagnoseReads()) {
      const answer = await call(tokens.reader, 'GET', path);
      assert.notEqual(answer.status, 403, `${what}: ${answer.body.message}`);
      assert.ok(
        answer.status === 200 || answer.status === 400,
        `${what}: ${answer.status} ${answer.body.message}`,
      );
    }
  });

  it('watches what validate watches (pods, VMIs) and nothing else', async () => {
    // A watch on nothing (a name no object has) that the server ends after a second: only the verb is tested.
    const watch = (collection: string) =>
      `${collection}?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dnothing-has-this-name`;
    for (const collection of ['/api/v1/pods', '/apis/kubevirt.io/v1/virtualmachineinstances']) {
      const answer = await call(tokens.reader, 'GET', watch(collection));
      assert.equal(answer.status, 200, `watch ${collection}: ${answer.body.message}`);
    }
    for (const collection of ['/api/v1/nodes', '/apis/kubevirt.io/v1/virtualmachines']) {
      const answer = await call(tokens.reader, 'GET', watch(collection));
      assert.equal(answer.status, 403, `watch ${collection}`);
    }
  });

  it('is refused every write, with the apiserver message', async () => {
    const { namespace, name } = failedPod;
    const writes: Array<[string, string, string, string, string | undefined, string | undefined, unknown?]> =
      [
        ['DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, 'delete', 'pods', namespace, name],
        ['DELETE', `/api/v1/namespaces/${namespace}/pods`, 'deletecollection', 'pods', namespace, undefined],
        ['PATCH', `/api/v1/namespaces/${namespace}/pods/${name}`, 'patch', 'pods', namespace, name, {}],
        ['POST', `/api/v1/namespaces/${namespace}/pods`, 'create', 'pods', namespace, undefined, {}],
        ['POST', `/api/v1/namespaces/${namespace}/events`, 'create', 'events', namespace, undefined, {}],
        ['PUT', '/api/v1/nodes/node-1', 'update', 'nodes', undefined, 'node-1', {}],
        [
          'DELETE',
          `/apis/kubevirt.io/v1/namespaces/${migration.namespace}/virtualmachineinstancemigrations/${migration.name}`,
          'delete',
          'virtualmachineinstancemigrations',
          migration.namespace,
          migration.name,
        ],
        [
          'PATCH',
          `/apis/kubevirt.io/v1/namespaces/${vm.namespace}/virtualmachines/${vm.name}`,
          'patch',
          'virtualmachines',
          vm.namespace,
          vm.name,
          {},
        ],
        [
          'DELETE',
          `/apis/kubevirt.io/v1/namespaces/${vm.namespace}/virtualmachines/${vm.name}`,
          'delete',
          'virtualmachines',
          vm.namespace,
          vm.name,
        ],
      ];
    for (const [method, path, verb, resource, ns, objectName, body] of writes) {
      const group = path.startsWith('/apis/kubevirt.io') ? 'kubevirt.io' : '';
      const answer = await call(tokens.reader, method, path, body, 'application/merge-patch+json');
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body.reason, 'Forbidden');
      assert.equal(answer.body.message, forbiddenMessage('read-only', verb, group, resource, ns, objectName));
    }
    assert.ok(sim.store.get('pods', namespace, name), 'the pod is still there');
  });

  it('is refused through the real kubectl with the same message', async () => {
    const context = serviceAccountContext(NAMESPACE, 'read-only');
    const listed = await runKubectl(['--context', context, 'get', 'vmim', '-A'], { kubeconfig });
    assert.equal(listed.code, 0, listed.stderr);
    const refused = await runKubectl(
      ['--context', context, 'delete', 'pod', failedPod.name, '-n', failedPod.namespace],
      { kubeconfig },
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `Error from server \\(Forbidden\\): ${forbiddenMessage('read-only', 'delete', '', 'pods', failedPod.namespace, failedPod.name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
      ),
    );
  });
});

describe('deploy/ RBAC: what kubectl auth can-i and the pre-flight check see', () => {
  it('kubectl auth can-i answers yes and no as the roles grant (exit 0 and 1); can-i --list and whoami work', async () => {
    const ask = (account: string, ...question: string[]) =>
      runKubectl(['--context', serviceAccountContext(NAMESPACE, account), 'auth', 'can-i', ...question], {
        kubeconfig,
      });
    const cases: Array<[string, string[], 'yes' | 'no']> = [
      ['read-only', ['list', 'pods', '-A'], 'yes'],
      ['read-only', ['delete', 'pods', '-n', failedPod.namespace], 'no'],
      ['act-only', ['delete', 'pods', '-n', failedPod.namespace], 'yes'],
      ['act-only', ['patch', 'virtualmachines.kubevirt.io', '-A'], 'yes'],
      ['act-only', ['list', 'pods', '-A'], 'no'],
      ['act-only', ['get', '/healthz'], 'yes'],
    ];
    for (const [account, question, expected] of cases) {
      const answer = await ask(account, ...question);
      assert.equal(answer.stdout.trim(), expected, `${account}: ${question.join(' ')}: ${answer.stderr}`);
      assert.equal(answer.code, expected === 'yes' ? 0 : 1);
    }
    // An admin asking on a role's behalf (kubectl --as: impersonation), with the admin's own credentials.
    for (const [account, expected] of [
      ['act-only', 'yes'],
      ['read-only', 'no'],
    ] as const) {
      const asked = await runKubectl(
        [
          'auth',
          'can-i',
          'delete',
          'pods',
          '-n',
          failedPod.namespace,
          '--as',
          `system:serviceaccount:${NAMESPACE}:${account}`,
        ],
        { kubeconfig },
      );
      assert.equal(asked.stdout.trim(), expected, `--as ${account}: ${asked.stderr}`);
    }
    // What an admin runs to see why: the rules of the act role, and who the token is.
    const listed = await ask('act-only', '--list', '-n', failedPod.namespace);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^pods\s+\[\]\s+\[\]\s+\[delete\]$/m);
    assert.match(listed.stdout, /^virtualmachines\.kubevirt\.io\s+\[\]\s+\[\]\s+\[patch\]$/m);
    const whoami = await runKubectl(
      ['--context', serviceAccountContext(NAMESPACE, 'act-only'), 'auth', 'whoami'],
      { kubeconfig },
    );
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, new RegExp(`^Username\\s+system:serviceaccount:${NAMESPACE}:act-only$`, 'm'));
  });

  it("grants the service every rule its executors declare: an approved plan passes serve's pre-flight check", async () => {
    const namespaces = [...new Set([...sim.store.objects('pods')].map((pod) => pod.namespace as string))];
    const target = (kind: string, namespace: string) => ({ kind, namespace, name: 'any', uid: 'any' });
    const step = (action: PlanAction, kind: string): PlanStep => ({
      id: action,
      action,
      reason: { cause: 'operator', summary: 'test' },
      targets: namespaces.map((namespace) => target(kind, namespace)),
      count: namespaces.length,
      caps: {},
    });
    const steps = [
      step('cancel-migrations', 'VirtualMachineInstanceMigration'),
      step('pause', 'VirtualMachine'),
      step('clean', 'Pod'),
      step('validate', 'Alert'),
    ];
    const executors = mitigationExecutors({ archiveDir: path.join(dir, 'never-written') });
    const rules = steps.flatMap((each) => executors[each.action].access(each, { dryRun: 'none' }));
    assert.ok(rules.length > 10, `${rules.length} rules`);
    const { api } = openKubeApi({
      kubeconfig,
      context: serviceAccountContext(NAMESPACE, 'stuckfailed'),
      env: {},
    });
    try {
      for (const rule of rules) {
        assert.equal((await api.reviewAccess(rule)).allowed, true, describeRule(rule));
      }
    } finally {
      api.close();
    }
  });
});

describe('deploy/ RBAC: the act role', () => {
  it('allows exactly its writes: delete pods, delete migrations, patch VMs', async () => {
    const patchVm = await call(
      tokens.actor,
      'PATCH',
      `/apis/kubevirt.io/v1/namespaces/${vm.namespace}/virtualmachines/${vm.name}`,
      { spec: { runStrategy: 'Halted' } },
      'application/merge-patch+json',
    );
    assert.equal(patchVm.status, 200, patchVm.body.message);
    const deleteMigration = await call(
      tokens.actor,
      'DELETE',
      `/apis/kubevirt.io/v1/namespaces/${migration.namespace}/virtualmachineinstancemigrations/${migration.name}`,
    );
    assert.equal(deleteMigration.status, 200, deleteMigration.body.message);
    const deletePod = await call(
      tokens.actor,
      'DELETE',
      `/api/v1/namespaces/${failedPod.namespace}/pods/${failedPod.name}`,
    );
    assert.equal(deletePod.status, 200, deletePod.body.message);
    assert.equal(sim.store.get('pods', failedPod.namespace, failedPod.name), undefined);
  });

  it('allows nothing else: no reads, no other writes', async () => {
    const refused: Array<[string, string, string, string, string | undefined, string | undefined]> = [
      ['GET', '/api/v1/pods', 'list', 'pods', undefined, undefined],
      [
        'DELETE',
        `/api/v1/namespaces/${vm.namespace}/pods`,
        'deletecollection',
        'pods',
        vm.namespace,
        undefined,
      ],
      ['PATCH', `/api/v1/namespaces/${vm.namespace}/pods/x`, 'patch', 'pods', vm.namespace, 'x'],
      [
        'PUT',
        `/apis/kubevirt.io/v1/namespaces/${vm.namespace}/virtualmachines/${vm.name}`,
        'update',
        'virtualmachines',
        vm.namespace,
        vm.name,
      ],
      [
        'DELETE',
        `/apis/kubevirt.io/v1/namespaces/${vm.namespace}/virtualmachines/${vm.name}`,
        'delete',
        'virtualmachines',
        vm.namespace,
        vm.name,
      ],
      ['DELETE', '/api/v1/nodes/node-1', 'delete', 'nodes', undefined, 'node-1'],
    ];
    for (const [method, path, verb, resource, ns, name] of refused) {
      const group = path.startsWith('/apis/kubevirt.io') ? 'kubevirt.io' : '';
      const answer = await call(
        tokens.actor,
        method,
        path,
        method === 'GET' || method === 'DELETE' ? undefined : {},
      );
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body.message, forbiddenMessage('act-only', verb, group, resource, ns, name));
    }
  });
});

describe("deploy/ RBAC: the service's own state", () => {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases`;
  const incidents = `/apis/stuckfailed.io/v1alpha1/namespaces/${NAMESPACE}/incidents`;

  it('takes and renews its Lease in its namespace, and nowhere else', async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'stuckfailed' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    };
    const created = await call(tokens.service, 'POST', leases, lease);
    assert.equal(created.status, 201, created.body.message);
    const read = await call(tokens.service, 'GET', `${leases}/stuckfailed`);
    assert.equal(read.status, 200);
    const renewed = await call(tokens.service, 'PUT', `${leases}/stuckfailed`, read.body);
    assert.equal(renewed.status, 200, renewed.body.message);
    const elsewhere = await call(
      tokens.service,
      'POST',
      '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases',
      lease,
    );
    assert.equal(elsewhere.status, 403);
    assert.equal(
      elsewhere.body.message,
      forbiddenMessage('stuckfailed', 'create', 'coordination.k8s.io', 'leases', 'kube-system'),
    );
    assert.equal((await call(tokens.reader, 'GET', `${leases}/stuckfailed`)).status, 403);
  });

  it('writes incidents and their status in its namespace, and may not delete them', async () => {
    const incident = {
      apiVersion: 'stuckfailed.io/v1alpha1',
      kind: 'Incident',
      metadata: { name: 'inc-1' },
      spec: {
        alert: { name: 'VirtLauncherPodsStuckFailed', groupKey: 'g' },
        openedAt: '2026-11-29T10:00:00Z',
      },
    };
    const created = await call(tokens.service, 'POST', incidents, incident);
    assert.equal(created.status, 201);
    const status = await call(tokens.service, 'PUT', `${incidents}/inc-1/status`, {
      ...created.body,
      status: { phase: 'open' },
    });
    assert.equal(status.status, 200, status.body.message);
    assert.equal((await call(tokens.service, 'GET', `${incidents}/inc-1`)).status, 200);
    assert.equal((await call(tokens.service, 'GET', incidents)).status, 200);
    // The spec is written once: no update or patch of the main resource, no patch of the status.
    const writes: Array<[string, string, string]> = [
      ['PUT', `${incidents}/inc-1`, 'update'],
      ['PATCH', `${incidents}/inc-1`, 'patch'],
    ];
    for (const [method, url, verb] of writes) {
      const refused = await call(tokens.service, method, url, status.body, 'application/merge-patch+json');
      assert.equal(
        refused.body.message,
        forbiddenMessage('stuckfailed', verb, 'stuckfailed.io', 'incidents', NAMESPACE, 'inc-1'),
      );
    }
    const removed = await call(tokens.service, 'DELETE', `${incidents}/inc-1`);
    assert.equal(removed.status, 403);
    assert.equal(
      removed.body.message,
      forbiddenMessage('stuckfailed', 'delete', 'stuckfailed.io', 'incidents', NAMESPACE, 'inc-1'),
    );
    const statusByReader = await call(
      tokens.reader,
      'PATCH',
      `${incidents}/inc-1/status`,
      {},
      'application/merge-patch+json',
    );
    assert.equal(
      statusByReader.body.message,
      forbiddenMessage('read-only', 'patch', 'stuckfailed.io', 'incidents/status', NAMESPACE, 'inc-1'),
    );
  });
});

describe('sim --tokens-out', () => {
  it('writes each token where a pod would have it mounted', async () => {
    const out = path.join(dir, 'tokens');
    await sim.writeServiceAccountTokens(out);
    assert.equal(await readFile(path.join(out, NAMESPACE, 'stuckfailed', 'token'), 'utf8'), tokens.service);
    assert.equal(await readFile(path.join(out, NAMESPACE, 'stuckfailed', 'namespace'), 'utf8'), NAMESPACE);
    assert.match(
      await readFile(path.join(out, NAMESPACE, 'stuckfailed', 'ca.crt'), 'utf8'),
      /BEGIN CERTIFICATE/,
    );
  });
});
