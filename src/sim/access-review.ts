// The self reviews every authenticated user may create (the system:basic-user ClusterRole), answered by the
// authorizer the user's own requests go through, created and answered (201) but never stored:
// - SelfSubjectAccessReview (authorization.k8s.io/v1): may I do this? `kubectl auth can-i VERB RESOURCE` and
//   stuckfailed's pre-flight check (pkg/registry/authorization/selfsubjectaccessreview/rest.go);
// - SelfSubjectRulesReview (authorization.k8s.io/v1): what may I do in this namespace? `kubectl auth can-i --list`
//   (selfsubjectrulesreview/rest.go);
// - SelfSubjectReview (authentication.k8s.io/v1): who am I? `kubectl auth whoami`
//   (pkg/registry/authentication/selfsubjectreview/rest.go).

import { ACCESS_REVIEWS, type ResourceType, resourceType } from '../kube/resources.js';
import { badRequest, type FieldError, invalidObject } from './api-status.js';
import type { Decision, PolicyRule, RequestAttributes } from './rbac.js';

/** A review kind: cluster-scoped, created only. */
const review = (group: string, plural: string, kind: string): ResourceType => ({
  ...resourceType(group, plural, kind, false),
  verbs: ['create'],
});

/** The self reviews, by plural (their store collection name, though nothing is stored). */
export const SELF_REVIEWS: Record<string, ResourceType> = {
  ...ACCESS_REVIEWS,
  selfsubjectrulesreviews: review(
    'authorization.k8s.io',
    'selfsubjectrulesreviews',
    'SelfSubjectRulesReview',
  ),
  selfsubjectreviews: review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview'),
};

/** The asking user, as the authorizer and the rule resolver see it. */
export interface Asker {
  /** Undefined when the simulator authenticates nobody. */
  user: { username: string; groups: readonly string[] } | undefined;
  decide(attributes: Omit<RequestAttributes, 'user' | 'groups'>): Decision;
  /** Every rule the user has in a namespace, and the error of what could not be resolved. */
  rules(namespace: string): { rules: PolicyRule[]; evaluationError: string };
}

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

interface AccessReview {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> | null;
  spec?: {
    resourceAttributes?: ResourceAttributes | null;
    nonResourceAttributes?: NonResourceAttributes | null;
  };
}

function isEmptyMetadata(metadata: Record<string, unknown>): boolean {
  // ObjectMeta{} as Go decodes it: kubectl sends `creationTimestamp: null`; managedFields are ignored.
  return Object.entries(metadata).every(
    ([key, value]) => key === 'managedFields' || value === null || value === '',
  );
}

/** validation.go ValidateSelfSubjectAccessReview, with its messages. */
function validationErrors(review: AccessReview): FieldError[] {
  const errors: FieldError[] = [];
  const { resourceAttributes, nonResourceAttributes } = review.spec ?? {};
  if (resourceAttributes && nonResourceAttributes) {
    errors.push({
      field: 'spec.nonResourceAttributes',
      message: `spec.nonResourceAttributes: Invalid value: ${JSON.stringify(JSON.stringify(nonResourceAttributes))}: cannot be specified in combination with resourceAttributes`,
    });
  }
  if (!resourceAttributes && !nonResourceAttributes) {
    errors.push({
      field: 'spec.resourceAttributes',
      message:
        'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
  }
  if (review.metadata && !isEmptyMetadata(review.metadata)) {
    errors.push({
      field: 'metadata',
      message: `metadata: Invalid value: ${JSON.stringify(JSON.stringify(review.metadata))}: must be empty`,
    });
  }
  return errors;
}

/** The answer to a self review of the given resource (a plural of SELF_REVIEWS), as the apiserver returns it. */
export function answerSelfReview(resource: string, body: unknown, asker: Asker): Record<string, unknown> {
  const object = (typeof body === 'object' && body !== null ? body : {}) as AccessReview & {
    spec?: { namespace?: string };
  };
  const type = SELF_REVIEWS[resource] as ResourceType;
  const answer = { kind: type.kind, apiVersion: `${type.group}/v1`, metadata: { creationTimestamp: null } };
  if (resource === 'selfsubjectreviews') {
    // Who the authenticator says: the user's name and groups (no uid or extra: the simulator's tokens have none).
    const user = asker.user ?? { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    return { ...answer, status: { userInfo: { username: user.username, groups: [...user.groups] } } };
  }
  if (resource === 'selfsubjectrulesreviews') {
    const namespace = object.spec?.namespace ?? '';
    if (namespace === '') throw badRequest('no namespace on request');
    const { rules, evaluationError } = asker.rules(namespace);
    // The returned object is a new one: its spec is empty, whatever was asked.
    return {
      ...answer,
      spec: {},
      status: {
        resourceRules: rules
          .filter((rule) => (rule.resources ?? []).length > 0)
          .map((rule) => ({
            verbs: rule.verbs,
            ...(rule.apiGroups === undefined ? {} : { apiGroups: rule.apiGroups }),
            resources: rule.resources,
            ...(rule.resourceNames === undefined ? {} : { resourceNames: rule.resourceNames }),
          })),
        nonResourceRules: rules
          .filter((rule) => (rule.nonResourceURLs ?? []).length > 0)
          .map((rule) => ({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs })),
        incomplete: false,
        ...(evaluationError === '' ? {} : { evaluationError }),
      },
    };
  }
  const errors = validationErrors(object);
  if (errors.length > 0) throw invalidObject('authorization.k8s.io', 'SelfSubjectAccessReview', '', errors);
  const spec = object.spec ?? {};
  const resourceAttributes = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  const decision = asker.decide({
    verb: (resourceAttributes ? resourceAttributes.verb : nonResource?.verb) ?? '',
    resourceRequest: Boolean(resourceAttributes),
    apiGroup: resourceAttributes?.group ?? '',
    resource: resourceAttributes?.resource ?? '',
    subresource: resourceAttributes?.subresource ?? '',
    name: resourceAttributes?.name ?? '',
    namespace: resourceAttributes?.namespace ?? '',
    path: nonResource?.path ?? '',
  });
  // RBAC has no deny: a refusal is "no opinion", so `denied` stays unset, as on a real cluster.
  const status = {
    allowed: decision.allowed,
    ...(decision.reason === '' ? {} : { reason: decision.reason }),
  };
  return { ...answer, spec, status };
}
