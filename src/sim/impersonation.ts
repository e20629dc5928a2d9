// User impersonation, as the apiserver's impersonation filter does it (k8s.io/apiserver pkg/endpoints/filters/
// impersonation.go): `kubectl --as USER --as-group GROUP`, a kubeconfig's `as:`, and stuckfailed with either send
// Impersonate-User and Impersonate-Group headers; the authenticated user must be allowed to `impersonate` each
// (users, groups and serviceaccounts in the core group, uids and userextras in authentication.k8s.io), and the
// request then runs as the user impersonated.

import type { IncomingHttpHeaders } from 'node:http';
import { internalError } from './api-status.js';
import type { RequestAttributes } from './rbac.js';

/** Who a request runs as once impersonation is applied. */
export interface ImpersonatedUser {
  user: string;
  groups: string[];
}

/** One thing the authenticated user must be allowed to impersonate, as authorizer attributes. */
export type ImpersonationCheck = Omit<RequestAttributes, 'user' | 'groups'>;

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

function values(headers: Record<string, string[] | undefined>, name: string): string[] {
  return headers[name] ?? [];
}

function check(
  apiGroup: string,
  resource: string,
  name: string,
  { namespace = '', subresource = '' } = {},
): ImpersonationCheck {
  return {
    verb: 'impersonate',
    resourceRequest: true,
    apiGroup,
    resource,
    subresource,
    name,
    namespace,
    path: '',
  };
}

/**
 * The impersonation a request asks for (undefined: none), with the checks it needs, in the filter's order: the
 * user (or service account), each group, each extra, the uid. Groups, extras or a uid without a user are refused
 * with the filter's InternalError (its `%v` of the requests is approximated).
 */
export function impersonationOf(
  distinct: IncomingHttpHeaders | Record<string, string[] | undefined>,
): { as: ImpersonatedUser; checks: ImpersonationCheck[] } | undefined {
  const headers = distinct as Record<string, string[] | undefined>;
  const [user] = values(headers, 'impersonate-user');
  const groups = values(headers, 'impersonate-group');
  const [uid] = values(headers, 'impersonate-uid');
  const extras = Object.entries(headers).filter(([name]) => name.startsWith('impersonate-extra-'));
  if (user === undefined) {
    if (groups.length > 0 || extras.length > 0 || uid !== undefined) {
      throw internalError(
        `requested ${JSON.stringify({ groups, uid, extras: extras.map(([name]) => name) })} without impersonating a user`,
      );
    }
    return undefined;
  }
  const checks: ImpersonationCheck[] = [];
  let asGroups = [...groups];
  if (user.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [namespace = '', name = ''] = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    checks.push(check('', 'serviceaccounts', name, { namespace }));
    // A service account's groups are a fixed mapping, used when none are asked for.
    if (groups.length === 0) asGroups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
  } else {
    checks.push(check('', 'users', user));
  }
  for (const group of groups) checks.push(check('', 'groups', group));
  for (const [name, extraValues] of extras) {
    const key = decodeURIComponent(name.slice('impersonate-extra-'.length));
    for (const value of extraValues ?? []) {
      checks.push(check('authentication.k8s.io', 'userextras', value, { subresource: key }));
    }
  }
  if (uid !== undefined) checks.push(check('authentication.k8s.io', 'uids', uid));
  // Every user impersonated but the anonymous one is authenticated.
  if (user === 'system:anonymous') {
    if (!asGroups.includes('system:unauthenticated')) asGroups.push('system:unauthenticated');
  } else if (!asGroups.includes('system:authenticated') && !asGroups.includes('system:unauthenticated')) {
    asGroups.push('system:authenticated');
  }
  return { as: { user, groups: asGroups }, checks };
}
