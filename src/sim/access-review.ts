// SelfSubjectAccessReview (authorization.k8s.io/v1), what `kubectl auth can-i` and stuckfailed's pre-flight check
// send: the authorizer's answer for the asking user, as pkg/registry/authorization/selfsubjectaccessreview/rest.go
// gives it. Created and answered (201), never stored.

import { type FieldError, invalidObject } from './api-status.js';
import type { Decision, RequestAttributes } from './rbac.js';

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

/**
 * The review as the apiserver returns it: the spec asked, and the status (allowed, reason) from `decide`, the
 * authorizer the asking user's own requests go through.
 */
export function answerAccessReview(
  body: unknown,
  decide: (attributes: Omit<RequestAttributes, 'user' | 'groups'>) => Decision,
): Record<string, unknown> {
  const review = (typeof body === 'object' && body !== null ? body : {}) as AccessReview;
  const errors = validationErrors(review);
  if (errors.length > 0) throw invalidObject('authorization.k8s.io', 'SelfSubjectAccessReview', '', errors);
  const spec = review.spec ?? {};
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  const decision = decide({
    verb: (resource ? resource.verb : nonResource?.verb) ?? '',
    resourceRequest: Boolean(resource),
    apiGroup: resource?.group ?? '',
    resource: resource?.resource ?? '',
    subresource: resource?.subresource ?? '',
    name: resource?.name ?? '',
    namespace: resource?.namespace ?? '',
    path: nonResource?.path ?? '',
  });
  // RBAC has no deny: a refusal is "no opinion", so `denied` stays unset, as on a real cluster.
  const status = {
    allowed: decision.allowed,
    ...(decision.reason === '' ? {} : { reason: decision.reason }),
  };
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status,
  };
}
