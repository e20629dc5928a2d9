import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addPolicyObject,
  authorize,
  emptyPolicy,
  forbiddenError,
  type PolicyRule,
  type RbacPolicy,
  type RequestAttributes,
  serviceAccountUser,
} from './rbac.js';

const reader = serviceAccountUser('stuckfailed', 'reader');

function request(overrides: Partial<RequestAttributes>): RequestAttributes {
  return {
    ...reader,
    verb: 'get',
    resourceRequest: true,
    apiGroup: '',
    resource: 'pods',
    subresource: '',
    name: '',
    namespace: '',
    path: '/api/v1/pods',
    ...overrides,
  };
}

function policyOf(objects: object[]): RbacPolicy {
  const policy = emptyPolicy();
  for (const object of objects) addPolicyObject(policy, object, 'test');
  return policy;
}

const clusterRole = (name: string, rules: PolicyRule[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name },
  rules,
});
const bindTo = (
  kind: 'ClusterRoleBinding' | 'RoleBinding',
  role: string,
  namespace?: string,
  roleKind = 'ClusterRole',
) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name: `${role}-binding`, ...(namespace === undefined ? {} : { namespace }) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
  subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'stuckfailed' }],
});

describe('RBAC authorizer', () => {
  it('denies with the apiserver message: named object, namespace, subresource, cluster scope, path', () => {
    assert.equal(
      forbiddenError(request({ verb: 'delete', name: 'x', namespace: 'ns' })).message,
      'pods "x" is forbidden: User "system:serviceaccount:stuckfailed:reader" cannot delete resource "pods" in API group "" in the namespace "ns"',
    );
    assert.equal(
      forbiddenError(request({ verb: 'list', apiGroup: 'kubevirt.io', resource: 'virtualmachines' })).message,
      'virtualmachines.kubevirt.io is forbidden: User "system:serviceaccount:stuckfailed:reader" cannot list resource "virtualmachines" in API group "kubevirt.io" at the cluster scope',
    );
    assert.equal(
      forbiddenError(request({ name: 'p', namespace: 'ns', subresource: 'log' })).message,
      'pods "p" is forbidden: User "system:serviceaccount:stuckfailed:reader" cannot get resource "pods/log" in API group "" in the namespace "ns"',
    );
    assert.equal(
      forbiddenError(request({ resourceRequest: false, resource: '', path: '/metrics' })).message,
      'forbidden: User "system:serviceaccount:stuckfailed:reader" cannot get path "/metrics"',
    );
    const status = forbiddenError(request({ verb: 'delete', name: 'x', namespace: 'ns' })).status;
    assert.equal(status.code, 403);
    assert.equal(status.reason, 'Forbidden');
    assert.deepEqual(status.details, { name: 'x', kind: 'pods' });
  });

  it('lets every authenticated user discover, as the bootstrap policy does, and nothing more', () => {
    const policy = emptyPolicy();
    for (const path of ['/api', '/apis/kubevirt.io/v1', '/version', '/openapi/v3/api/v1']) {
      assert.ok(authorize(policy, request({ resourceRequest: false, path })).allowed, path);
    }
    assert.equal(authorize(policy, request({ resourceRequest: false, path: '/metrics' })).allowed, false);
    assert.equal(authorize(policy, request({ verb: 'list' })).allowed, false);
  });

  it('RoleBindings grant in their namespace only; ClusterRoleBindings everywhere', () => {
    const policy = policyOf([
      clusterRole('pod-reader', [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }]),
      bindTo('RoleBinding', 'pod-reader', 'ns1'),
    ]);
    assert.ok(authorize(policy, request({ verb: 'list', namespace: 'ns1' })).allowed);
    assert.equal(authorize(policy, request({ verb: 'list', namespace: 'ns2' })).allowed, false);
    assert.equal(
      authorize(policy, request({ verb: 'list' })).allowed,
      false,
      'all namespaces needs a ClusterRoleBinding',
    );
  });

  it('names the binding that allowed a request, as audit logs and access reviews show it', () => {
    const policy = policyOf([
      clusterRole('pod-reader', [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }]),
      bindTo('RoleBinding', 'pod-reader', 'ns1'),
      clusterRole('node-reader', [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }]),
      bindTo('ClusterRoleBinding', 'node-reader'),
    ]);
    assert.equal(
      authorize(policy, request({ verb: 'list', namespace: 'ns1' })).reason,
      'RBAC: allowed by RoleBinding "pod-reader-binding/ns1" of ClusterRole "pod-reader" to ServiceAccount "reader/stuckfailed"',
    );
    assert.equal(
      authorize(policy, request({ verb: 'list', resource: 'nodes' })).reason,
      'RBAC: allowed by ClusterRoleBinding "node-reader-binding" of ClusterRole "node-reader" to ServiceAccount "reader/stuckfailed"',
    );
    // Every authenticated user may ask what it may do (system:basic-user), and nothing else through it.
    const ask = request({
      verb: 'create',
      apiGroup: 'authorization.k8s.io',
      resource: 'selfsubjectaccessreviews',
    });
    assert.equal(
      authorize(emptyPolicy(), { ...ask, groups: ['system:authenticated'] }).reason,
      'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
    );
    assert.equal(
      authorize(emptyPolicy(), { ...ask, verb: 'list', groups: ['system:authenticated'] }).allowed,
      false,
    );
  });

  it('names a binding whose role is missing in the reason, as RBAC does', () => {
    const policy = policyOf([bindTo('ClusterRoleBinding', 'gone')]);
    const decision = authorize(policy, request({ verb: 'list' }));
    assert.equal(decision.allowed, false);
    assert.equal(decision.reason, 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found');
    assert.match(
      forbiddenError(request({ verb: 'list' }), decision.reason).message,
      /at the cluster scope: RBAC: clusterrole/,
    );
  });

  it('refuses a Role without a namespace, with a hint', () => {
    assert.throws(
      () => policyOf([{ kind: 'Role', metadata: { name: 'r' }, rules: [] }]),
      /metadata\.namespace: Required value/,
    );
  });
});

// A reference that decides differently from the authorizer: it expands every rule of every binding that applies
// into the concrete (verb, group, resource, name, namespace) tuples of a small universe, wildcards included, and
// allows exactly those.
const VERBS = ['get', 'list', 'delete', 'patch'];
const GROUPS = ['', 'kubevirt.io'];
const RESOURCES = ['pods', 'pods/log', 'pods/status', 'virtualmachines', 'virtualmachines/status'];
const NAMES = ['', 'a', 'b'];
const NAMESPACES = ['', 'ns1', 'ns2'];

function expand(rule: PolicyRule, namespaces: readonly string[]): Set<string> {
  const tuples = new Set<string>();
  for (const verb of VERBS) {
    if (!rule.verbs.includes('*') && !rule.verbs.includes(verb)) continue;
    for (const group of GROUPS) {
      if (!(rule.apiGroups ?? []).some((item) => item === '*' || item === group)) continue;
      for (const resource of RESOURCES) {
        const sub = resource.includes('/') ? resource.split('/')[1] : undefined;
        const granted = (rule.resources ?? []).some(
          (item) => item === '*' || item === resource || (sub !== undefined && item === `*/${sub}`),
        );
        if (!granted) continue;
        for (const name of NAMES) {
          const names = rule.resourceNames ?? [];
          if (names.length > 0 && !names.includes(name)) continue;
          for (const namespace of namespaces) tuples.add([verb, group, resource, name, namespace].join('|'));
        }
      }
    }
  }
  return tuples;
}

const ruleArbitrary: fc.Arbitrary<PolicyRule> = fc.record({
  verbs: fc.subarray([...VERBS, '*'], { minLength: 1 }),
  apiGroups: fc.subarray([...GROUPS, '*']),
  resources: fc.subarray([...RESOURCES, '*', '*/status', '*/log']),
  resourceNames: fc.subarray(['a', 'b']),
});

describe('RBAC authorizer against a reference (property)', () => {
  it('allows exactly the tuples the bound rules expand to', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            rules: fc.array(ruleArbitrary, { maxLength: 3 }),
            bindingNamespace: fc.constantFrom<string | undefined>(undefined, 'ns1', 'ns2'),
            bound: fc.boolean(),
          }),
          { maxLength: 4 },
        ),
        fc.record({
          verb: fc.constantFrom(...VERBS),
          apiGroup: fc.constantFrom(...GROUPS),
          resource: fc.constantFrom(...RESOURCES),
          name: fc.constantFrom(...NAMES),
          namespace: fc.constantFrom(...NAMESPACES),
        }),
        (roles, asked) => {
          const objects: object[] = [];
          const granted = new Set<string>();
          for (const [index, role] of roles.entries()) {
            const name = `role-${index}`;
            objects.push(clusterRole(name, role.rules));
            if (!role.bound) continue;
            if (role.bindingNamespace === undefined)
              objects.push({ ...bindTo('ClusterRoleBinding', name), metadata: { name } });
            else
              objects.push({
                ...bindTo('RoleBinding', name, role.bindingNamespace),
                metadata: { name, namespace: role.bindingNamespace },
              });
            const scopes = role.bindingNamespace === undefined ? NAMESPACES : [role.bindingNamespace];
            for (const rule of role.rules) for (const tuple of expand(rule, scopes)) granted.add(tuple);
          }
          const [resource, subresource = ''] = asked.resource.split('/') as [string, string?];
          const decision = authorize(
            policyOf(objects),
            request({
              verb: asked.verb,
              apiGroup: asked.apiGroup,
              resource,
              subresource,
              name: asked.name,
              namespace: asked.namespace,
            }),
          );
          const key = [asked.verb, asked.apiGroup, asked.resource, asked.name, asked.namespace].join('|');
          assert.equal(decision.allowed, granted.has(key));
        },
      ),
      { numRuns: 500 },
    );
  });
});
