import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type RunningSimulator, startSimulator } from './index.js';
import { addPolicyObject, emptyPolicy } from './rbac.js';

const PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** A review as answered, or the Status of a refusal. */
interface ReviewAnswer {
  status?: { allowed: boolean; reason?: string };
  message?: string;
  reason?: string;
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

  function review(token: string | undefined, body: unknown, method = 'POST') {
    const url = new URL(PATH, sim.url);
    return new Promise<{ status: number; body: ReviewAnswer }>((resolve, reject) => {
      const request = httpsRequest(
        url,
        {
          method,
          ca: Buffer.from(sim.caData as string, 'base64'),
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token ?? sim.serviceAccountTokens.get('ops/cleaner')}`,
          },
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
});
