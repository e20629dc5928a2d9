// The API resources stuckfailed reads or writes, described once for the client, the snapshot reader and the
// simulator, so that a path, a kind and a plural never disagree between them.

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
}

const readWrite = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** A kind served at v1 with the usual names, every verb (ResourceType's defaults). */
export function resourceType(
  group: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
): ResourceType {
  return {
    group,
    version: 'v1',
    plural,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    shortNames,
    verbs: readWrite,
  };
}

export const RESOURCES = {
  pods: resourceType('', 'pods', 'Pod', true, ['po']),
  events: resourceType('', 'events', 'Event', true, ['ev']),
  namespaces: resourceType('', 'namespaces', 'Namespace', false, ['ns']),
  nodes: resourceType('', 'nodes', 'Node', false, ['no']),
  virtualmachineinstances: resourceType(
    'kubevirt.io',
    'virtualmachineinstances',
    'VirtualMachineInstance',
    true,
    ['vmi', 'vmis'],
  ),
  virtualmachines: resourceType('kubevirt.io', 'virtualmachines', 'VirtualMachine', true, ['vm', 'vms']),
  virtualmachineinstancemigrations: resourceType(
    'kubevirt.io',
    'virtualmachineinstancemigrations',
    'VirtualMachineInstanceMigration',
    true,
    ['vmim', 'vmims'],
  ),
  kubevirts: resourceType('kubevirt.io', 'kubevirts', 'KubeVirt', true, ['kv', 'kvs']),
  leases: resourceType('coordination.k8s.io', 'leases', 'Lease', true),
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof RESOURCES;

/**
 * stuckfailed's own custom resources (deploy/base/crd.yaml), which the client reads and writes but which only exist
 * once their CustomResourceDefinition is applied: kept apart from RESOURCES, which the simulator serves as built-in
 * kinds and a snapshot loads.
 */
export const OWN_RESOURCES = {
  incidents: {
    ...resourceType('stuckfailed.io', 'incidents', 'Incident', true, ['sfi']),
    version: 'v1alpha1',
  },
} as const satisfies Record<string, ResourceType>;

/**
 * What the API client asks the authorizer before it writes (what `kubectl auth can-i` sends): created and answered,
 * never stored, on every cluster (the system:basic-user ClusterRole lets every user create them).
 */
export const ACCESS_REVIEWS: { selfsubjectaccessreviews: ResourceType } = {
  selfsubjectaccessreviews: {
    ...resourceType('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false),
    verbs: ['create'],
  },
};

/** Every resource the API client can name. */
export const API_RESOURCES = { ...RESOURCES, ...OWN_RESOURCES, ...ACCESS_REVIEWS };
export type ApiResourceName = keyof typeof API_RESOURCES;

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** The collection path: cluster-wide when namespace is undefined (or the resource is cluster-scoped). */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  if (type.namespaced && namespace !== undefined) {
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`;
  }
  return `${base}/${type.plural}`;
}

export function objectPath(type: ResourceType, name: string, namespace?: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}

/** Finds the resource an object of this apiVersion and kind belongs to. */
export function resourceForKind(
  apiVersion: string | undefined,
  kind: string | undefined,
): ResourceType | undefined {
  return Object.values(RESOURCES).find(
    (type) => type.kind === kind && (apiVersion === undefined || apiVersionOf(type) === apiVersion),
  );
}
