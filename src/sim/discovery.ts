// API discovery, both forms kubectl 1.32 understands (apiserver.md §1.1): aggregated (apidiscovery.k8s.io/v2,
// two requests: /api and /apis) and legacy (APIVersions, APIGroupList, then one APIResourceList per group
// version). Short names (vmim, kv) and singular names (kubevirt) reach kubectl only through these documents.

import { RESOURCES, type ResourceType } from '../kube/resources.js';

export type DiscoveryMode = 'aggregated' | 'legacy';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

// The `all` category: `kubectl get all` lists pods and KubeVirt's VMs, VMIs and migrations.
const IN_CATEGORY_ALL = new Set([
  'pods',
  'virtualmachines',
  'virtualmachineinstances',
  'virtualmachineinstancemigrations',
]);

function typesOf(group: string): ResourceType[] {
  return Object.values(RESOURCES).filter((type) => type.group === group);
}

function groups(): string[] {
  return [...new Set(Object.values(RESOURCES).map((type) => type.group))].filter((group) => group !== '');
}

function aggregatedResource(type: ResourceType): Record<string, unknown> {
  return {
    resource: type.plural,
    responseKind: { group: type.group, version: type.version, kind: type.kind },
    scope: type.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: type.singular,
    verbs: [...type.verbs],
    ...(type.shortNames.length > 0 ? { shortNames: [...type.shortNames] } : {}),
    ...(IN_CATEGORY_ALL.has(type.plural) ? { categories: ['all'] } : {}),
    ...(type.plural === 'pods'
      ? {
          subresources: [
            { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
          ],
        }
      : {}),
  };
}

function aggregatedGroup(group: string): Record<string, unknown> {
  return {
    metadata: { name: group },
    versions: [{ version: 'v1', resources: typesOf(group).map(aggregatedResource), freshness: 'Current' }],
  };
}

/** The body of /api (`core`) or /apis in aggregated form. */
export function aggregatedDiscovery(core: boolean): string {
  const items = core ? [aggregatedGroup('')] : groups().map(aggregatedGroup);
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

function apiGroup(group: string): Record<string, unknown> {
  const version = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [version], preferredVersion: version };
}

/** Legacy GET /apis. */
export function apiGroupList(): string {
  return JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: groups().map(apiGroup) });
}

/** GET /apis/{group}: the group alone, or undefined for an unknown group. */
export function apiGroupDocument(group: string): string | undefined {
  if (!groups().includes(group)) return undefined;
  return JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) });
}

/** Legacy GET /api/v1 or /apis/{group}/v1: undefined for an unknown group version. */
export function apiResourceList(group: string, version: string): string | undefined {
  const types = typesOf(group);
  if (types.length === 0 || version !== 'v1') return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const type of types) {
    resources.push({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...type.verbs],
      ...(type.shortNames.length > 0 ? { shortNames: [...type.shortNames] } : {}),
      ...(IN_CATEGORY_ALL.has(type.plural) ? { categories: ['all'] } : {}),
    });
    if (type.plural === 'pods') {
      resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    }
  }
  return JSON.stringify({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? 'v1' : `${group}/v1`,
    resources,
  });
}
