// RBAC as the apiserver's authorizer evaluates it (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac: rbac.go
// RulesAllow, and pkg/apis/rbac/v1/evaluation_helpers.go VerbMatches, APIGroupMatches, ResourceMatches,
// ResourceNameMatches, NonResourceURLMatches): Roles, ClusterRoles and their bindings loaded from files, one
// identity per ServiceAccount, and the Forbidden Status with the apiserver's message
// (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage). Aggregated ClusterRoles
// are not evaluated (their rules are taken as written).

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { StuckfailedError } from '../errors.js';
import { ApiStatusError } from './api-status.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RoleRef {
  apiGroup?: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

interface Role {
  name: string;
  namespace: string | undefined;
  rules: PolicyRule[];
}

interface Binding {
  name: string;
  /** undefined for a ClusterRoleBinding. */
  namespace: string | undefined;
  roleRef: RoleRef;
  subjects: Subject[];
}

/** Roles, ClusterRoles, their bindings and the ServiceAccounts to issue tokens for. */
export interface RbacPolicy {
  roles: Map<string, Role>;
  clusterRoles: Map<string, Role>;
  roleBindings: Binding[];
  clusterRoleBindings: Binding[];
  /** `namespace/name` of each ServiceAccount. */
  serviceAccounts: Array<{ namespace: string; name: string }>;
}

/** What the authorizer decides on (authorizer.Attributes). */
export interface RequestAttributes {
  user: string;
  groups: readonly string[];
  verb: string;
  /** Resource requests: group, resource, subresource, name, namespace. Otherwise: path. */
  resourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  namespace: string;
  path: string;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

// The bootstrap policy's discovery roles (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
// system:discovery, system:public-info-viewer), bound to every authenticated user as on a real cluster: without
// them no client gets past discovery.
const DISCOVERY_URLS = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/healthz',
  '/livez',
  '/openapi',
  '/openapi/*',
  '/readyz',
  '/version',
  '/version/',
];

/** system:basic-user: every authenticated user may ask who it is and what it may do (kubectl auth whoami, can-i). */
export const BASIC_USER_RULES: PolicyRule[] = [
  {
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
];

export function emptyPolicy(): RbacPolicy {
  const policy: RbacPolicy = {
    roles: new Map(),
    clusterRoles: new Map(),
    roleBindings: [],
    clusterRoleBindings: [],
    serviceAccounts: [],
  };
  policy.clusterRoles.set('system:discovery', {
    name: 'system:discovery',
    namespace: undefined,
    rules: [{ verbs: ['get'], nonResourceURLs: DISCOVERY_URLS }],
  });
  policy.clusterRoles.set('system:basic-user', {
    name: 'system:basic-user',
    namespace: undefined,
    rules: BASIC_USER_RULES,
  });
  for (const name of ['system:discovery', 'system:basic-user']) {
    policy.clusterRoleBindings.push({
      name,
      namespace: undefined,
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
      subjects: [{ kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:authenticated' }],
    });
  }
  return policy;
}

interface PolicyObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
  rules?: unknown;
  roleRef?: unknown;
  subjects?: unknown;
  items?: unknown;
}

function fail(source: string, message: string): never {
  throw new StuckfailedError('INPUT', `${source}: ${message}`);
}

function rulesOf(object: PolicyObject, source: string): PolicyRule[] {
  if (object.rules === undefined || object.rules === null) return [];
  if (!Array.isArray(object.rules)) fail(source, 'rules must be a list');
  return (object.rules as PolicyRule[]).map((rule, index) => {
    if (!Array.isArray(rule?.verbs) || rule.verbs.length === 0)
      fail(source, `rules[${index}].verbs: Required value`);
    return rule;
  });
}

/** Adds one object (a Role, ClusterRole, binding, ServiceAccount or List of them) to the policy. */
export function addPolicyObject(policy: RbacPolicy, object: PolicyObject, source: string): void {
  if (object === null || typeof object !== 'object') return;
  if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
    for (const item of object.items as PolicyObject[]) addPolicyObject(policy, item, source);
    return;
  }
  const name = typeof object.metadata?.name === 'string' ? object.metadata.name : undefined;
  const namespace = typeof object.metadata?.namespace === 'string' ? object.metadata.namespace : undefined;
  const where = `${source}: ${String(object.kind)} ${name ?? '(no name)'}`;
  switch (object.kind) {
    case 'Role':
    case 'ClusterRole': {
      if (name === undefined) fail(where, 'metadata.name: Required value');
      if (object.kind === 'Role' && namespace === undefined) {
        fail(where, 'metadata.namespace: Required value (render kustomize output, or set it in the file)');
      }
      const role = {
        name,
        namespace: object.kind === 'Role' ? namespace : undefined,
        rules: rulesOf(object, where),
      };
      if (object.kind === 'Role') policy.roles.set(`${namespace}/${name}`, role);
      else policy.clusterRoles.set(name, role);
      return;
    }
    case 'RoleBinding':
    case 'ClusterRoleBinding': {
      if (name === undefined) fail(where, 'metadata.name: Required value');
      if (object.kind === 'RoleBinding' && namespace === undefined) {
        fail(where, 'metadata.namespace: Required value (render kustomize output, or set it in the file)');
      }
      const roleRef = object.roleRef as RoleRef | undefined;
      if (roleRef?.kind !== 'Role' && roleRef?.kind !== 'ClusterRole') {
        fail(where, 'roleRef.kind: Unsupported value: supported values: "Role", "ClusterRole"');
      }
      if (object.kind === 'ClusterRoleBinding' && roleRef.kind !== 'ClusterRole') {
        fail(where, 'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
      }
      const binding = {
        name,
        namespace: object.kind === 'RoleBinding' ? namespace : undefined,
        roleRef,
        subjects: Array.isArray(object.subjects) ? (object.subjects as Subject[]) : [],
      };
      (object.kind === 'RoleBinding' ? policy.roleBindings : policy.clusterRoleBindings).push(binding);
      return;
    }
    case 'ServiceAccount':
      if (name === undefined || namespace === undefined) {
        fail(where, 'metadata.name and metadata.namespace are required for a token to be issued');
      }
      if (
        !policy.serviceAccounts.some((account) => account.name === name && account.namespace === namespace)
      ) {
        policy.serviceAccounts.push({ namespace, name });
      }
      return;
    default:
      // Other kinds (Deployments, CRDs, a kustomization) are not policy: skipped, so `--rbac deploy/` works.
      return;
  }
}

/** Reads YAML or JSON files (multi-document, `kind: List`, kustomize output) and the files of folders. */
export async function loadRbacPolicy(paths: readonly string[]): Promise<RbacPolicy> {
  const policy = emptyPolicy();
  const files: string[] = [];
  for (const input of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch {
      throw new StuckfailedError('INPUT', `--rbac ${input}: no such file or folder`);
    }
    if (info.isDirectory()) {
      const entries = (await readdir(input)).filter((entry) => /\.(ya?ml|json)$/.test(entry)).sort();
      files.push(...entries.map((entry) => path.join(input, entry)));
    } else files.push(input);
  }
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) {
        throw new StuckfailedError('INPUT', `${file}: not valid YAML: ${document.errors[0]?.message}`);
      }
      addPolicyObject(policy, document.toJS() as PolicyObject, file);
    }
  }
  return policy;
}

/** The user name and groups of a ServiceAccount's token (serviceaccount.UserInfo). */
export function serviceAccountUser(namespace: string, name: string): { user: string; groups: string[] } {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

// --- evaluation_helpers.go -------------------------------------------------------------------------------------

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.includes('*') || rule.verbs.includes(verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  const groups = rule.apiGroups ?? [];
  return groups.includes('*') || groups.includes(group);
}

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const ruleResource of rule.resources ?? []) {
    if (ruleResource === '*' || ruleResource === combined) return true;
    if (subresource === '') continue;
    if (
      ruleResource.length === subresource.length + 2 &&
      ruleResource.startsWith('*/') &&
      ruleResource.endsWith(subresource)
    ) {
      return true;
    }
  }
  return false;
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

function nonResourceUrlMatches(rule: PolicyRule, requested: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === requested) return true;
    if (url.endsWith('*') && requested.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

/** RuleAllows: one rule against one request. */
export function ruleAllows(attributes: RequestAttributes, rule: PolicyRule): boolean {
  if (attributes.resourceRequest) {
    const combined =
      attributes.subresource === ''
        ? attributes.resource
        : `${attributes.resource}/${attributes.subresource}`;
    return (
      verbMatches(rule, attributes.verb) &&
      apiGroupMatches(rule, attributes.apiGroup) &&
      resourceMatches(rule, combined, attributes.subresource) &&
      resourceNameMatches(rule, attributes.name)
    );
  }
  return verbMatches(rule, attributes.verb) && nonResourceUrlMatches(rule, attributes.path);
}

// rbac.go appliesToUser / appliesTo
function appliesTo(
  attributes: Pick<RequestAttributes, 'user' | 'groups'>,
  subject: Subject,
  bindingNamespace: string,
): boolean {
  switch (subject.kind) {
    case 'User':
      return attributes.user === subject.name;
    case 'Group':
      return attributes.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && attributes.user === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

/**
 * The decision and RBAC's reason: when allowed, the binding that allowed it; when denied, the bindings whose role
 * is missing (or nothing).
 */
export interface Decision {
  allowed: boolean;
  reason: string;
}

// rule.go describeSubject: a ServiceAccount as name/namespace.
function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount')
    return `ServiceAccount "${subject.name}/${subject.namespace || bindingNamespace}"`;
  return `${subject.kind} "${subject.name}"`;
}

/**
 * Visits the bindings that apply to the user, as rule.go VisitRulesFor does: the ClusterRoleBindings, then (for a
 * namespace) the RoleBindings of that namespace, each with its role, or the error of a role that does not exist.
 * Stops when `visit` returns true.
 */
function visitBindings(
  policy: RbacPolicy,
  user: Pick<RequestAttributes, 'user' | 'groups'>,
  namespace: string,
  visit: (binding: Binding, subject: Subject, role: Role | undefined) => boolean,
): void {
  const bindings = [
    ...policy.clusterRoleBindings,
    ...(namespace === '' ? [] : policy.roleBindings.filter((binding) => binding.namespace === namespace)),
  ];
  for (const binding of bindings) {
    const subject = binding.subjects.find((candidate) => appliesTo(user, candidate, binding.namespace ?? ''));
    if (subject === undefined) continue;
    const role =
      binding.roleRef.kind === 'ClusterRole'
        ? policy.clusterRoles.get(binding.roleRef.name)
        : policy.roles.get(`${binding.namespace}/${binding.roleRef.name}`);
    if (visit(binding, subject, role)) return;
  }
}

function missingRole(binding: Binding): string {
  return `${binding.roleRef.kind.toLowerCase()}.rbac.authorization.k8s.io "${binding.roleRef.name}" not found`;
}

/** RBAC's reason for errors: one, or a list of them (utilerrors.NewAggregate). */
function errorsReason(errors: readonly string[]): string {
  return errors.length === 0 ? '' : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`;
}

/**
 * Authorize as the RBAC authorizer visits rules: the ClusterRoleBindings, then (for a namespaced request) the
 * RoleBindings of the request's namespace. A binding whose role does not exist contributes an error to the reason.
 */
export function authorize(policy: RbacPolicy, attributes: RequestAttributes): Decision {
  const errors: string[] = [];
  let allowedBy: string | undefined;
  visitBindings(policy, attributes, attributes.namespace, (binding, subject, role) => {
    if (role === undefined) {
      errors.push(missingRole(binding));
      return false;
    }
    if (!role.rules.some((rule) => ruleAllows(attributes, rule))) return false;
    // rule.go clusterRoleBindingDescriber / roleBindingDescriber, as audit logs show them.
    allowedBy =
      (binding.namespace === undefined
        ? `ClusterRoleBinding "${binding.name}"`
        : `RoleBinding "${binding.name}/${binding.namespace}"`) +
      ` of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, binding.namespace ?? '')}`;
    return true;
  });
  if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
  return { allowed: false, reason: errorsReason(errors) };
}

/**
 * Every rule the user has in a namespace (rbac.go RulesFor, what `kubectl auth can-i --list` shows), and the error
 * of each binding whose role does not exist.
 */
export function rulesFor(
  policy: RbacPolicy,
  user: Pick<RequestAttributes, 'user' | 'groups'>,
  namespace: string,
): { rules: PolicyRule[]; evaluationError: string } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitBindings(policy, user, namespace, (binding, _subject, role) => {
    if (role === undefined) errors.push(missingRole(binding));
    else rules.push(...role.rules);
    return false;
  });
  return { rules, evaluationError: errors.join(', ') };
}

/** responsewriters.Forbidden: 403 with forbiddenMessage, wrapped by errors.NewForbidden. */
export function forbiddenError(attributes: RequestAttributes, reason = ''): ApiStatusError {
  let message: string;
  if (!attributes.resourceRequest) {
    message = `User "${attributes.user}" cannot ${attributes.verb} path "${attributes.path}"`;
  } else {
    const resource =
      attributes.subresource === ''
        ? attributes.resource
        : `${attributes.resource}/${attributes.subresource}`;
    message =
      attributes.namespace !== ''
        ? `User "${attributes.user}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.apiGroup}" in the namespace "${attributes.namespace}"`
        : `User "${attributes.user}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.apiGroup}" at the cluster scope`;
  }
  if (reason !== '') message += `: ${reason}`;
  let full: string;
  if (!attributes.resourceRequest) full = `forbidden: ${message}`;
  else {
    const qualified =
      attributes.apiGroup === '' ? attributes.resource : `${attributes.resource}.${attributes.apiGroup}`;
    full =
      attributes.name === ''
        ? `${qualified} is forbidden: ${message}`
        : `${qualified} "${attributes.name}" is forbidden: ${message}`;
  }
  return new ApiStatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: full,
    reason: 'Forbidden',
    details: {
      ...(attributes.name === '' ? {} : { name: attributes.name }),
      ...(attributes.apiGroup === '' ? {} : { group: attributes.apiGroup }),
      ...(attributes.resource === '' ? {} : { kind: attributes.resource }),
    },
    code: 403,
  });
}
