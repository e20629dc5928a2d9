// API discovery, both forms kubectl 1.32 understands (apiserver.md §1.1): aggregated (apidiscovery.k8s.io/v2,
// two requests: /api and /apis) and legacy (APIVersions, APIGroupList, then one APIResourceList per group
// version), over what the ResourceRegistry serves, so a CRD applied to the simulator is found by kubectl like
// any built-in kind. Short names (vmim, kv) and singular names (kubevirt) reach kubectl only through these.

import { compareKubeVersions, type ServedResource } from './resource-registry.js';

export type DiscoveryMode = 'aggregated' | 'legacy';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

function servedIn(resources: readonly ServedResource[], group: string, version: string): ServedResource[] {
  return resources.filter((served) => served.type.group === group && served.versions.includes(version));
}

/** The group's versions, preferred first. */
function versionsOf(resources: readonly ServedResource[], group: string): string[] {
  const versions = new Set<string>();
  for (const served of resources) {
    if (served.type.group === group) for (const version of served.versions) versions.add(version);
  }
  return [...versions].sort(compareKubeVersions);
}

function groups(resources: readonly ServedResource[]): string[] {
  return [...new Set(resources.map((served) => served.type.group))].filter((group) => group !== '');
}

function aggregatedResource(served: ServedResource, version: string): Record<string, unknown> {
  const { type } = served;
  const responseKind = { group: type.group, version, kind: type.kind };
  return {
    resource: type.plural,
    responseKind,
    scope: type.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: type.singular,
    verbs: [...type.verbs],
    ...(type.shortNames.length > 0 ? { shortNames: [...type.shortNames] } : {}),
    ...(served.categories.length > 0 ? { categories: [...served.categories] } : {}),
    ...(served.subresources.length > 0
      ? {
          subresources: served.subresources.map((subresource) => ({
            subresource,
            responseKind,
            verbs: subresource === 'log' ? ['get'] : ['get', 'patch', 'update'],
          })),
        }
      : {}),
  };
}

function aggregatedGroup(resources: readonly ServedResource[], group: string): Record<string, unknown> {
  return {
    metadata: { name: group },
    versions: versionsOf(resources, group).map((version) => ({
      version,
      resources: servedIn(resources, group, version).map((served) => aggregatedResource(served, version)),
      freshness: 'Current',
    })),
  };
}

/** The body of /api (`core`) or /apis in aggregated form. */
export function aggregatedDiscovery(resources: readonly ServedResource[], core: boolean): string {
  const items = core
    ? [aggregatedGroup(resources, '')]
    : groups(resources).map((group) => aggregatedGroup(resources, group));
  return JSON.stringify({
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items,
  });
}

/** Legacy GET /api. */
export function apiVersions(serverAddress: string): string {
  return JSON.stringify({
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  });
}

function apiGroup(resources: readonly ServedResource[], group: string): Record<string, unknown> {
  const versions = versionsOf(resources, group).map((version) => ({
    groupVersion: `${group}/${version}`,
    version,
  }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** Legacy GET /apis. */
export function apiGroupList(resources: readonly ServedResource[]): string {
  return JSON.stringify({
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups(resources).map((group) => apiGroup(resources, group)),
  });
}

/** GET /apis/{group}: the group alone, or undefined for an unknown group. */
export function apiGroupDocument(resources: readonly ServedResource[], group: string): string | undefined {
  if (!groups(resources).includes(group)) return undefined;
  return JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(resources, group) });
}

/** Legacy GET /api/v1 or /apis/{group}/{version}: undefined for an unknown group version. */
export function apiResourceList(
  resources: readonly ServedResource[],
  group: string,
  version: string,
): string | undefined {
  const served = servedIn(resources, group, version);
  if (served.length === 0) return undefined;
  const list: Array<Record<string, unknown>> = [];
  for (const { type, categories, subresources } of served) {
    list.push({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...type.verbs],
      ...(type.shortNames.length > 0 ? { shortNames: [...type.shortNames] } : {}),
      ...(categories.length > 0 ? { categories: [...categories] } : {}),
    });
    for (const subresource of subresources) {
      list.push({
        name: `${type.plural}/${subresource}`,
        singularName: '',
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: subresource === 'log' ? ['get'] : ['get', 'patch', 'update'],
      });
    }
  }
  return JSON.stringify({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: list,
  });
}
