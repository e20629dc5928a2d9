// What the simulated apiserver serves: the built-in kinds of RESOURCES, CustomResourceDefinitions, and the
// resources of every CRD applied to it, served generically as the apiextensions-apiserver does (create, get,
// list, watch, update, patch, delete, the status subresource, printer columns, discovery). The registry follows
// the store: a CRD written by any path (POST, PUT, PATCH, DELETE) registers, changes or removes its resource.

import { RESOURCES, type ResourceType } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { SELF_REVIEWS } from './access-review.js';
import { ApiStatusError, type FieldError, invalidObject } from './api-status.js';
import type { ObjectStore, StoreEvent, StoreResource } from './store.js';

const READ_WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const CRD_RESOURCE = 'customresourcedefinitions';

const CRD_TYPE: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  verbs: READ_WRITE,
};

/** An additionalPrinterColumn of a CRD version. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string | undefined;
  description?: string | undefined;
  priority?: number | undefined;
  jsonPath: string;
}

export interface ServedResource {
  /** The store collection. */
  name: StoreResource;
  /** The kind at its storage version (the version objects are stored as). */
  type: ResourceType;
  /** Every served version, highest priority first (the first is the group's preferred version). */
  versions: readonly string[];
  /** Served by a CustomResourceDefinition: no strategic merge patch (415), generic printing. */
  custom: boolean;
  /** Subresources beside the object: `status` when the CRD declares it, `log` for pods. */
  subresources: readonly string[];
  categories: readonly string[];
  /** The Table columns of a CRD's version (default: Age). Undefined for built-in kinds. */
  printerColumns?: ((version: string) => PrinterColumn[]) | undefined;
}

// The `all` category: `kubectl get all` lists pods and KubeVirt's VMs, VMIs and migrations.
const IN_CATEGORY_ALL = new Set([
  'pods',
  'virtualmachines',
  'virtualmachineinstances',
  'virtualmachineinstancemigrations',
]);

function builtIn(name: string, type: ResourceType): ServedResource {
  return {
    name,
    type,
    versions: [type.version],
    // KubeVirt's kinds are custom resources on a real cluster: they take no strategic merge patch either.
    custom: type.group === 'kubevirt.io',
    subresources: name === 'pods' ? ['log'] : [],
    categories: IN_CATEGORY_ALL.has(type.plural) ? ['all'] : [],
  };
}

// k8s.io/apimachinery/pkg/version CompareKubeAwareVersionStrings: GA before beta before alpha, higher numbers
// first, then anything else alphabetically.
function versionRank(version: string): [number, number, number, string] {
  const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
  if (match === null) return [3, 0, 0, version];
  const stage = match[2] === undefined ? 0 : match[2] === 'beta' ? 1 : 2;
  return [stage, -Number(match[1]), -Number(match[3] ?? 0), ''];
}

export function compareKubeVersions(a: string, b: string): number {
  const left = versionRank(a);
  const right = versionRank(b);
  for (let index = 0; index < 3; index += 1) {
    const difference = (left[index] as number) - (right[index] as number);
    if (difference !== 0) return difference;
  }
  return left[3] < right[3] ? -1 : left[3] > right[3] ? 1 : 0;
}

interface CrdVersion {
  name?: unknown;
  served?: unknown;
  storage?: unknown;
  subresources?: { status?: unknown };
  additionalPrinterColumns?: unknown;
}

interface CrdSpec {
  group?: unknown;
  scope?: unknown;
  names?: {
    plural?: unknown;
    singular?: unknown;
    kind?: unknown;
    listKind?: unknown;
    shortNames?: unknown;
    categories?: unknown;
  };
  versions?: CrdVersion[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The checks of apiextensions' ValidateCustomResourceDefinition that matter to a simulated client, with its
 * messages: a CRD that would not be accepted by a real apiserver is a 422 here too.
 */
export function validateCrd(object: KubeObject): void {
  const spec = ((object as { spec?: CrdSpec }).spec ?? {}) as CrdSpec;
  const names = spec.names ?? {};
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => errors.push({ field, message: `${field}: ${message}` });
  const name = object.metadata?.name ?? '';
  const group = typeof spec.group === 'string' ? spec.group : '';
  const plural = typeof names.plural === 'string' ? names.plural : '';
  if (group === '') add('spec.group', 'Required value');
  else if (!group.includes('.'))
    add('spec.group', `Invalid value: "${group}": should be a domain with at least one dot`);
  if (plural === '') add('spec.names.plural', 'Required value');
  else if (!DNS_LABEL.test(plural))
    add(
      'spec.names.plural',
      `Invalid value: "${plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
    );
  if (typeof names.kind !== 'string' || names.kind === '') add('spec.names.kind', 'Required value');
  if (name !== `${plural}.${group}`) {
    add('metadata.name', `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`);
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    add(
      'spec.scope',
      `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`,
    );
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0)
    add('spec.versions', 'Invalid value: null: must have exactly one version marked as storage version');
  else if (versions.filter((version) => version.storage === true).length !== 1) {
    add(
      'spec.versions',
      `Invalid value: ${JSON.stringify(versions.map((version) => version.name))}: must have exactly one version marked as storage version`,
    );
  }
  for (const [index, version] of versions.entries()) {
    if (typeof version.name !== 'string' || !DNS_LABEL.test(version.name)) {
      add(
        `spec.versions[${index}].name`,
        `Invalid value: ${JSON.stringify(version.name ?? '')}: a DNS-1035 label is required`,
      );
    }
  }
  if (errors.length > 0) {
    throw invalidObject(CRD_TYPE.group, CRD_TYPE.kind, name, errors);
  }
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function printerColumnsOf(version: CrdVersion): PrinterColumn[] {
  const columns = Array.isArray(version.additionalPrinterColumns)
    ? (version.additionalPrinterColumns as PrinterColumn[])
    : [];
  // apiextensions-apiserver getColumnsForVersion: a version without columns prints its age.
  return columns.length > 0
    ? columns
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
}

/** The served resource a valid CRD stands for. */
export function servedResourceOf(object: KubeObject): ServedResource {
  const spec = (object as { spec?: CrdSpec }).spec as CrdSpec;
  const names = spec.names ?? {};
  const kind = names.kind as string;
  const versions = (spec.versions ?? []).filter((version) => version.served !== false);
  const storage = (spec.versions ?? []).find((version) => version.storage === true) as CrdVersion;
  const byName = new Map(versions.map((version) => [version.name as string, version]));
  return {
    name: object.metadata.name,
    type: {
      group: spec.group as string,
      version: storage.name as string,
      plural: names.plural as string,
      singular:
        typeof names.singular === 'string' && names.singular !== '' ? names.singular : kind.toLowerCase(),
      kind,
      listKind: typeof names.listKind === 'string' && names.listKind !== '' ? names.listKind : `${kind}List`,
      namespaced: spec.scope === 'Namespaced',
      shortNames: stringList(names.shortNames),
      verbs: READ_WRITE,
    },
    versions: [...byName.keys()].sort(compareKubeVersions),
    custom: true,
    subresources: storage.subresources?.status === undefined ? [] : ['status'],
    categories: stringList(names.categories),
    printerColumns: (version) => printerColumnsOf(byName.get(version) ?? storage),
  };
}

/** The resources the simulator serves, built-in and from the CRDs in its store. */
export class ResourceRegistry {
  readonly #store: ObjectStore;
  readonly #builtIn: ServedResource[];
  readonly #custom = new Map<string, ServedResource>();
  readonly #clock: () => number;

  constructor(store: ObjectStore, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
    this.#builtIn = [
      ...Object.entries(RESOURCES).map(([name, type]) => builtIn(name, type)),
      // Answered by the server (SimApi), never stored.
      ...Object.entries(SELF_REVIEWS).map(([name, type]) => builtIn(name, type)),
      { ...builtIn(CRD_RESOURCE, CRD_TYPE), subresources: ['status'] },
    ];
    store.register(CRD_RESOURCE, CRD_TYPE);
    store.subscribe(CRD_RESOURCE, (event) => this.#follow(event));
  }

  all(): ServedResource[] {
    return [...this.#builtIn, ...this.#custom.values()];
  }

  /** The resource served at /apis/<group>/<version>/<plural>, if any. */
  find(group: string, version: string, plural: string): ServedResource | undefined {
    return this.all().find(
      (served) =>
        served.type.group === group && served.type.plural === plural && served.versions.includes(version),
    );
  }

  /** True when the group serves this version (for discovery paths). */
  servesGroupVersion(group: string, version: string): boolean {
    return this.all().some((served) => served.type.group === group && served.versions.includes(version));
  }

  #follow(event: StoreEvent): void {
    const name = event.object.name;
    if (event.type === 'DELETED') {
      if (this.#custom.delete(name)) this.#store.unregister(name);
      return;
    }
    const crd = JSON.parse(event.object.body.toString('utf8')) as KubeObject & {
      status?: { conditions?: unknown[] };
    };
    try {
      validateCrd(crd);
    } catch (error) {
      // Objects laid down without the API (store.put) may be anything; an invalid CRD serves nothing.
      if (error instanceof ApiStatusError) return;
      throw error;
    }
    const served = servedResourceOf(crd);
    this.#custom.set(name, served);
    this.#store.register(name, served.type);
    // The apiextensions controllers accept the names and establish the CRD right after it is written.
    if ((crd.status?.conditions ?? []).length === 0) {
      const now = `${new Date(this.#clock()).toISOString().slice(0, 19)}Z`;
      const condition = (type: string, reason: string, message: string) => ({
        type,
        status: 'True',
        lastTransitionTime: now,
        reason,
        message,
      });
      const spec = (crd as { spec?: CrdSpec }).spec as CrdSpec;
      this.#store.put(CRD_RESOURCE, {
        ...crd,
        status: {
          acceptedNames: spec.names,
          conditions: [
            condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
            condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
          ],
          storedVersions: [served.type.version],
        },
      } as KubeObject);
    }
  }
}
