import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type RunningSimulator, startSimulator } from './index.js';
import { addPolicyObject, emptyPolicy } from './rbac.js';

const PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
const RULES_PATH = '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews';
const WHOAMI_PATH = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

/** A review as answered, or the Status of a refusal. */
interface ReviewAnswer {
  spec?: unknown;
  status?: {
    allowed?: boolean;
    reason?: string;
    resourceRules?: unknown[];
    nonResourceRules?: Array<{ verbs: string[]; nonResourceURLs: string[] }>;
    incomplete?: boolean;
    evaluationError?: string;
    userInfo?: unknown;
  };
  message?: string;
  reason?: string;
}

/** One request with a bearer token to the simulator's HTTPS port; a body is sent with POST only. */
function send(
  sim: RunningSimulator,
  token: string,
  path: string,
  body: unknown,
  method = 'POST',
  headers: Record<string, string | string[]> = {},
): Promise<{ status: number; body: ReviewAnswer }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      new URL(path, sim.url),
      {
        method,
        ca: Buffer.from(sim.caData as string, 'base64'),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(method === 'POST' ? JSON.stringify(body) : undefined);
  });
}

// The access reviews of `kubectl auth can-i` and of stuckfailed's pre-flight check, over HTTPS with the tokens of
// an RBAC policy: one ServiceAccount that may delete pods in ns-1, a read-only token, and the cluster admin
// (system:masters).
describe('simulated API server: SelfSubjectAccessReview', () => {
  let sim: RunningSimulator;
  const policy = emptyPolicy();
  for (const object of [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cleaner', namespace: 'ops' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'delete-pods', namespace: 'ns-1' },
      rules: [{ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'cleaner', namespace: 'ns-1' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'delete-pods' },
      subjects: [{ kind: 'ServiceAccount', name: 'cleaner', namespace: 'ops' }],
    },
  ]) {
    addPolicyObject(policy, object, 'test');
  }
  before(async () => {
    sim = await startSimulator({
      scenario: 'healthy',
      namespaces: 2,
      nodes: 1,
      rbac: policy,
      tokens: { 'viewer-token': { user: 'viewer', groups: ['system:authenticated'], readOnly: true } },
    });
  });
  after(async () => {
    await sim.close();
  });

  /** A review asked over HTTPS, by default as the cleaner ServiceAccount. */
  const review = (
    token: string | undefined,
    body: unknown,
    method = 'POST',
    path = PATH,
    impersonation: Record<string, string | string[]> = {},
  ) =>
    send(
      sim,
      token ?? (sim.serviceAccountTokens.get('ops/cleaner') as string),
      path,
      body,
      method,
      impersonation,
    );

  const ask = (resourceAttributes: Record<string, string>) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes },
  });

  it('answers allowed, with the binding as the reason, where a RoleBinding grants; not allowed elsewhere', async () => {
    const allowed = await review(undefined, ask({ verb: 'delete', resource: 'pods', namespace: 'ns-1' }));
    assert.equal(allowed.status, 201);
    assert.deepEqual(allowed.body, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { verb: 'delete', resource: 'pods', namespace: 'ns-1' } },
      status: {
        allowed: true,
        reason:
          'RBAC: allowed by RoleBinding "cleaner/ns-1" of Role "delete-pods" to ServiceAccount "cleaner/ops"',
      },
    });
    for (const attributes of [
      { verb: 'delete', resource: 'pods', namespace: 'ns-2' },
      { verb: 'delete', resource: 'pods' },
      { verb: 'list', resource: 'pods', namespace: 'ns-1' },
    ]) {
      const denied = await review(undefined, ask(attributes));
      assert.equal(denied.status, 201);
      // RBAC never denies, it has no opinion: `denied` is not set, and no reason without a broken binding.
      assert.deepEqual(denied.body.status, { allowed: false }, JSON.stringify(attributes));
    }
  });

  it('answers as the authorizer of the asker: the cluster admin may do anything, a read-only token no write', async () => {
    const admin = await review(sim.token, ask({ verb: 'delete', resource: 'nodes' }));
    assert.deepEqual(admin.body.status, { allowed: true });
    const viewer = await review('viewer-token', ask({ verb: 'delete', resource: 'pods', namespace: 'ns-1' }));
    assert.equal(viewer.status, 201, 'a read-only token may still ask');
    assert.equal(viewer.body.status?.allowed, false);
    const path = await review(undefined, {
      spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
    });
    assert.deepEqual(path.body.status?.allowed, true, "discovery paths are every user's");
  });

  it('refuses what ValidateSelfSubjectAccessReview refuses (422), and every method but POST (405)', async () => {
    const neither = await review(undefined, { spec: {} });
    assert.equal(neither.status, 422);
    assert.equal(
      neither.body.message,
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
    const both = await review(undefined, {
      spec: { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/', verb: 'get' } },
    });
    assert.equal(both.status, 422);
    assert.match(
      both.body.message ?? '',
      /spec\.nonResourceAttributes: Invalid value: .*: cannot be specified in combination with resourceAttributes/,
    );
    const named = await review(undefined, {
      metadata: { name: 'x' },
      spec: { resourceAttributes: { verb: 'get' } },
    });
    assert.equal(named.status, 422);
    assert.match(named.body.message ?? '', /metadata: Invalid value: .*: must be empty/);
    // Authorization comes first: listing access reviews is nobody's, so only the admin reaches the 405.
    assert.equal((await review(undefined, undefined, 'GET')).status, 403);
    const listed = await review(sim.token, undefined, 'GET');
    assert.equal(listed.status, 405);
    assert.equal(listed.body.reason, 'MethodNotAllowed');
  });

  it('lists what the asker may do in a namespace (kubectl auth can-i --list), and says who it is (whoami)', async () => {
    const inNs1 = await review(undefined, { spec: { namespace: 'ns-1' } }, 'POST', RULES_PATH);
    assert.equal(inNs1.status, 201);
    assert.deepEqual(inNs1.body.spec, {});
    assert.deepEqual(inNs1.body.status?.resourceRules, [
      {
        verbs: ['create'],
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
      },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
      { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
    ]);
    assert.ok(inNs1.body.status?.nonResourceRules?.some((rule) => rule.nonResourceURLs.includes('/version')));
    assert.equal(inNs1.body.status?.incomplete, false);
    const inNs2 = await review(undefined, { spec: { namespace: 'ns-2' } }, 'POST', RULES_PATH);
    assert.equal(inNs2.body.status?.resourceRules?.length, 2, 'the RoleBinding of ns-1 does not reach ns-2');
    const admin = await review(sim.token, { spec: { namespace: 'ns-2' } }, 'POST', RULES_PATH);
    assert.deepEqual(admin.body.status?.resourceRules, [
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    ]);
    const noNamespace = await review(undefined, { spec: {} }, 'POST', RULES_PATH);
    assert.equal(noNamespace.status, 400);
    assert.equal(noNamespace.body.message, 'no namespace on request');

    const whoami = await review(undefined, {}, 'POST', WHOAMI_PATH);
    assert.equal(whoami.status, 201);
    assert.deepEqual(whoami.body.status, {
      userInfo: {
        username: 'system:serviceaccount:ops:cleaner',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ops', 'system:authenticated'],
      },
    });
  });
  it('runs a request as the user it impersonates, once the impersonation itself is allowed (kubectl --as)', async () => {
    const asCleaner = { 'Impersonate-User': 'system:serviceaccount:ops:cleaner' };
    const whoami = await review(sim.token, {}, 'POST', WHOAMI_PATH, asCleaner);
    assert.deepEqual(whoami.body.status?.userInfo, {
      username: 'system:serviceaccount:ops:cleaner',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ops', 'system:authenticated'],
    });
    const mayDeletePods = async (namespace: string) =>
      (await review(sim.token, ask({ verb: 'delete', resource: 'pods', namespace }), 'POST', PATH, asCleaner))
        .body.status?.allowed;
    assert.equal(await mayDeletePods('ns-1'), true);
    assert.equal(await mayDeletePods('ns-2'), false, 'as the service account, not as the admin');
    const asBob = await review(sim.token, {}, 'POST', WHOAMI_PATH, {
      'Impersonate-User': 'bob',
      'Impersonate-Group': ['devs', 'ops'],
    });
    assert.deepEqual(asBob.body.status?.userInfo, {
      username: 'bob',
      groups: ['devs', 'ops', 'system:authenticated'],
    });

    // Who may not impersonate is refused with the filter's message; a group without a user is malformed.
    const refused = await review(undefined, {}, 'POST', WHOAMI_PATH, { 'Impersonate-User': 'bob' });
    assert.equal(refused.status, 403);
    assert.equal(
      refused.body.message,
      'users "bob" is forbidden: User "system:serviceaccount:ops:cleaner" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    const viewer = await review('viewer-token', {}, 'POST', WHOAMI_PATH, asCleaner);
    assert.equal(viewer.status, 403, 'a read-only token may not act as someone else');
    const groupOnly = await review(sim.token, {}, 'POST', WHOAMI_PATH, { 'Impersonate-Group': 'devs' });
    assert.equal(groupOnly.status, 500);
    assert.match(groupOnly.body.message ?? '', /without impersonating a user/);
  });
});

describe('simulated API server: self reviews without RBAC', () => {
  it('a read-only token may read everything and ask, and is told so; it may not write', async () => {
    const sim = await startSimulator({
      scenario: 'healthy',
      namespaces: 1,
      nodes: 1,
      tls: true,
      tokens: { 'viewer-token': { user: 'viewer', groups: ['system:authenticated'], readOnly: true } },
    });
    try {
      const post = async (path: string, body: unknown) => (await send(sim, 'viewer-token', path, body)).body;
      const rules = await post(RULES_PATH, { spec: { namespace: 'default' } });
      assert.deepEqual(rules.status?.resourceRules?.[0], {
        verbs: ['get', 'list', 'watch'],
        apiGroups: ['*'],
        resources: ['*'],
      });
      const may = async (verb: string) =>
        (await post(PATH, { spec: { resourceAttributes: { verb, resource: 'pods', namespace: 'default' } } }))
          .status?.allowed;
      assert.equal(await may('list'), true);
      assert.equal(await may('delete'), false);
    } finally {
      await sim.close();
    }
  });
});
