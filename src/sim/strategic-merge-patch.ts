// The strategic merge patch the apiserver applies to built-in kinds (k8s.io/apimachinery v0.32
// pkg/util/strategicpatch/patch.go: StrategicMergeMapPatch, mergeMap, mergeSlice, mergePatchIntoOriginal), with
// the patchStrategy/patchMergeKey struct tags of the Go types (k8s.io/api v0.32 core/v1/types.go,
// apimachinery pkg/apis/meta/v1/types.go). kubectl sends one for `patch` (its default type) and for a second
// `apply` (a 3-way diff with `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`), the Python client
// for any dict body: a list with a merge key merges by that key, every other list is replaced whole.
//
// Errors are answered as the apiserver's patch handler does (apiserver pkg/endpoints/handlers/patch.go
// interpretStrategicMergePatchError): the malformed-directive errors are 400, lists of lists 422, and anything
// else (an unknown `$patch`, an element without its merge key) is a plain error, which the apiserver sends as a
// 500 without a reason (responsewriters ErrorToAPIStatus). A `$`-key left after merging (`$foo`, or a directive
// nested in a value the patch adds) names no Go field: the conversion to the typed object drops it as an unknown
// field (runtime FromUnstructuredWithValidation), with a warning, or refuses it with fieldValidation=Strict.

import type { Status } from '../kube/types.js';
import { ApiStatusError } from './api-status.js';
import type { JsonValue } from './patch.js';

type JsonMap = { [key: string]: JsonValue };

const DIRECTIVE_MARKER = '$patch';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

/** A struct field's patch tags and, when it holds structs (or a list of them) with tagged fields, their Go type. */
interface FieldMeta {
  strategy?: 'merge' | 'merge,retainKeys';
  mergeKey?: string;
  type?: string;
}

const keyed = (mergeKey: string, type?: string): FieldMeta => ({
  strategy: 'merge',
  mergeKey,
  ...(type === undefined ? {} : { type }),
});

const CONTAINER: Record<string, FieldMeta> = {
  ports: keyed('containerPort'),
  env: keyed('name'),
  volumeMounts: keyed('mountPath'),
  volumeDevices: keyed('devicePath'),
};

/**
 * The Go types of the kinds served as built-in, reduced to the fields on a path to a tagged list. A field not
 * listed has no patch strategy: a list is replaced whole, a map merges key by key. Lists without `merge` (tolerations,
 * node taints, readinessGates, containerStatuses, a namespace's spec.finalizers, a CRD's spec.versions) are atomic,
 * so nothing under them needs listing.
 */
const GO_TYPES: Record<string, Record<string, FieldMeta>> = {
  ObjectMeta: { ownerReferences: keyed('uid'), finalizers: { strategy: 'merge' } },
  Pod: { metadata: { type: 'ObjectMeta' }, spec: { type: 'PodSpec' }, status: { type: 'PodStatus' } },
  PodSpec: {
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    initContainers: keyed('name', 'Container'),
    containers: keyed('name', 'Container'),
    ephemeralContainers: keyed('name', 'Container'),
    imagePullSecrets: keyed('name'),
    hostAliases: keyed('ip'),
    topologySpreadConstraints: keyed('topologyKey'),
    schedulingGates: keyed('name'),
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  },
  // EphemeralContainer inlines EphemeralContainerCommon, whose lists carry the same tags as Container's.
  Container: CONTAINER,
  PodStatus: {
    conditions: keyed('type'),
    hostIPs: keyed('ip'),
    podIPs: keyed('ip'),
    resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
  },
  Node: { metadata: { type: 'ObjectMeta' }, spec: { type: 'NodeSpec' }, status: { type: 'NodeStatus' } },
  NodeSpec: { podCIDRs: { strategy: 'merge' } },
  NodeStatus: { conditions: keyed('type'), addresses: keyed('type') },
  Namespace: { metadata: { type: 'ObjectMeta' }, status: { type: 'NamespaceStatus' } },
  NamespaceStatus: { conditions: keyed('type') },
  Event: { metadata: { type: 'ObjectMeta' } },
  Lease: { metadata: { type: 'ObjectMeta' } },
  CustomResourceDefinition: { metadata: { type: 'ObjectMeta' } },
};

/** PatchMetaFromStruct.LookupPatchMetadataForStruct/ForSlice: the field's Go type and its merge strategy. */
function lookup(
  schema: string | undefined,
  key: string,
): { schema: string | undefined; strategy: string; mergeKey: string } {
  const field = schema === undefined ? undefined : GO_TYPES[schema]?.[key];
  // extractRetainKeysPatchStrategy: retainKeys only shapes the client's diff; the server merges the list.
  return {
    schema: field?.type,
    strategy: field?.strategy === undefined ? '' : 'merge',
    mergeKey: field?.mergeKey ?? '',
  };
}

// --- Errors: the mergepatch sentinels the handler maps to 400/422, and everything else.

class PatchError extends Error {
  readonly code: 400 | 422 | 500;
  constructor(code: 400 | 422 | 500, message: string) {
    super(message);
    this.code = code;
  }
}

const badPrimitiveList = () => new PatchError(400, 'invalid patch format of primitive list');
const badRetainKeys = () => new PatchError(400, 'invalid patch format of retainKeys');
const badSetElementOrder = () => new PatchError(400, 'invalid patch format of setElementOrder list');
const noListOfLists = () => new PatchError(422, 'lists of lists are not supported');
const failed = (message: string) => new PatchError(500, message);
const noMergeKey = (map: JsonValue, mergeKey: string) =>
  failed(`map: ${goValue(map)} does not contain declared merge key: ${mergeKey}`);
const badArgType = (expected: string, actual: JsonValue | undefined) =>
  failed(`expected a ${expected}, but received a ${goType(actual)}`);
const badPatchType = (directive: JsonValue, map: JsonMap) =>
  failed(`unknown patch type: ${goValue(directive)} in map: ${goValue(map)}`);

const GO_MAP = 'map[string]interface {}';
const GO_SLICE = '[]interface {}';

/** reflect.TypeOf of a decoded JSON value (ints stay int64: the handler decodes with PreserveInts). */
function goType(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return GO_SLICE;
  if (typeof value === 'object') return GO_MAP;
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  return typeof value === 'string' ? 'string' : 'bool';
}

/** fmt's %v of a decoded JSON value, as the apiserver's messages print it. */
function goValue(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((key) => `${key}:${goValue(value[key])}`).join(' ')}]`;
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    // %v of a float64 is %g with the shortest digits: an exponent from 1e+06 up or below 1e-04.
    const exponent = Math.floor(Math.log10(Math.abs(value)));
    if (exponent < -4 || exponent >= 6) {
      return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
    }
  }
  return String(value);
}

function isMap(value: JsonValue | undefined): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's == on interface values of decoded JSON: scalars by value (a map or list never equals here). */
function same(left: JsonValue | undefined, right: JsonValue | undefined): boolean {
  const a = left ?? null;
  const b = right ?? null;
  return goType(a) === goType(b) && a === b;
}

/** extractKey: the list's key after `<prefix>/`. */
function extractKey(key: string, prefix: string, error: () => PatchError): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw error();
  return key.slice(slash + 1);
}

// --- mergeMap and its helpers.

function mergeMap(original: JsonMap | null, patch: JsonMap, schema: string | undefined): JsonMap {
  if (DIRECTIVE_MARKER in patch) return directiveInMap(patch[DIRECTIVE_MARKER] as JsonValue, patch);
  const target = original ?? {};
  applyRetainKeys(target, patch);
  mergeElementOrderLists(target, patch, schema);
  for (const [patchKey, patchValue] of Object.entries(patch)) {
    let key = patchKey;
    const isDeleteList = patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST);
    if (isDeleteList) key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST, badPrimitiveList);
    if (patchValue === null) {
      // A null deletes the key, as in a JSON merge patch (IgnoreUnmatchedNulls: nothing else to do).
      delete target[key];
      continue;
    }
    const current = target[key];
    if (current === undefined || goType(current) !== goType(patchValue)) {
      if (!isDeleteList) setValue(target, key, patchValue);
      continue;
    }
    const field = lookup(schema, key);
    if (isMap(current) && isMap(patchValue)) {
      target[key] = mergeMap(current, patchValue, field.schema);
    } else if (Array.isArray(current) && Array.isArray(patchValue)) {
      target[key] = mergeSliceHandler(current, patchValue, field, isDeleteList);
    } else {
      target[key] = patchValue;
    }
  }
  return target;
}

/** A value the original lacks (or holds with another type) is taken from the patch, without its nulls or directives. */
function setValue(target: JsonMap, key: string, patchValue: JsonValue): void {
  discardNulls(patchValue);
  const [value, keep] = removeDirectives(patchValue);
  if (keep) target[key] = value;
  else delete target[key];
}

/** handleDirectiveInMergeMap: `$patch: replace` takes the patch's map, `$patch: delete` empties it. */
function directiveInMap(directive: JsonValue, patch: JsonMap): JsonMap {
  if (directive === 'replace') {
    const { [DIRECTIVE_MARKER]: _marker, ...rest } = patch;
    return rest;
  }
  if (directive === 'delete') return {};
  throw badPatchType(directive, patch);
}

/** applyRetainKeysDirective: keys missing from `$retainKeys` are cleared; the patch may only set listed keys. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!(RETAIN_KEYS_DIRECTIVE in patch)) return;
  const retain = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retain)) throw badRetainKeys();
  const kept = new Set(retain.filter((key) => typeof key === 'string'));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER))
      continue;
    if (!kept.has(key)) throw badRetainKeys();
  }
  for (const key of Object.keys(original)) if (!kept.has(key)) delete original[key];
}

/**
 * mergePatchIntoOriginal: each `$setElementOrder/<list>` merges its list now, then orders it: the patch's items as
 * the directive lists them, the server's other items where they stood.
 */
function mergeElementOrderLists(original: JsonMap, patch: JsonMap, schema: string | undefined): void {
  for (const [directiveKey, order] of Object.entries(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw badArgType(GO_SLICE, order);
    const key = extractKey(directiveKey, SET_ELEMENT_ORDER, badSetElementOrder);
    const originalList = original[key];
    const patchList = patch[key];
    if (originalList !== undefined && !Array.isArray(originalList)) throw badArgType(GO_SLICE, originalList);
    if (patchList !== undefined && !Array.isArray(patchList)) throw badArgType(GO_SLICE, patchList);
    const field = lookup(schema, key);
    validateWithOrder(patchList ?? [], order, field.mergeKey);
    let merged: JsonValue[];
    if (originalList === undefined && patchList === undefined) continue;
    if (patchList === undefined) merged = originalList as JsonValue[];
    else if (originalList === undefined) merged = removeDirectives(patchList)[0] as JsonValue[];
    else merged = mergeSliceHandler(originalList, patchList, field, false);
    const [patchItems, serverOnly] = partition(merged, order, field.mergeKey);
    const kind = elementType([originalList ?? [], patchList ?? []]);
    original[key] = normalizeOrder(patchItems, serverOnly, order, originalList ?? [], field.mergeKey, kind);
    delete patch[key];
  }
}

/** validatePatchWithSetOrderList: the patch's items appear in the `$setElementOrder` list, in its order. */
function validateWithOrder(patchList: JsonValue[], order: JsonValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey === '' ? patchList : splitDeletions(patchList)[0];
  let patchIndex = 0;
  let orderIndex = 0;
  while (patchIndex < items.length && orderIndex < order.length) {
    const item = items[patchIndex] as JsonValue;
    if (isMap(item) && DIRECTIVE_MARKER in item) {
      patchIndex += 1;
      continue;
    }
    if (mergeKeyEqual(item, order[orderIndex] as JsonValue, mergeKey)) patchIndex += 1;
    orderIndex += 1;
  }
  if (patchIndex < items.length && orderIndex >= order.length) {
    throw failed(
      `The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goValue(order)}\n`,
    );
  }
}

function mergeKeyEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (mergeKey === '') return same(left, right);
  if (!isMap(left)) throw badArgType(GO_MAP, left);
  if (!isMap(right)) throw badArgType(GO_MAP, right);
  if (!(mergeKey in left)) throw noMergeKey(left, mergeKey);
  if (!(mergeKey in right)) throw noMergeKey(right, mergeKey);
  return same(left[mergeKey], right[mergeKey]);
}

/** removeDirectives: a map holding `$patch` is dropped (from its parent map or list); null stays. */
function removeDirectives(value: JsonValue): [JsonValue, boolean] {
  if (Array.isArray(value)) {
    const kept: JsonValue[] = [];
    for (const item of value) {
      const [next, keep] = removeDirectives(item);
      if (keep) kept.push(next);
    }
    return [kept, true];
  }
  if (!isMap(value)) return [value, true];
  if (DIRECTIVE_MARKER in value) return [null, false];
  for (const [key, item] of Object.entries(value)) {
    const [next, keep] = removeDirectives(item);
    if (keep) value[key] = next;
    else delete value[key];
  }
  return [value, true];
}

/** discardNullValuesFromPatch: nulls mean nothing in a value the original does not have. */
function discardNulls(value: JsonValue): void {
  if (Array.isArray(value)) for (const item of value) discardNulls(item);
  else if (isMap(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item === null) delete value[key];
      else discardNulls(item);
    }
  }
}

// --- mergeSlice and its helpers.

type ElementKind = 'map' | 'scalar';

function mergeSliceHandler(
  original: JsonValue[],
  patch: JsonValue[],
  field: { schema: string | undefined; strategy: string; mergeKey: string },
  isDeleteList: boolean,
): JsonValue[] {
  // A list without the merge strategy is replaced whole, directives and all; delete lists merge regardless.
  if (field.strategy !== 'merge' && !isDeleteList) return patch;
  return mergeSlice(original, patch, field.schema, field.mergeKey, isDeleteList);
}

function mergeSlice(
  original: JsonValue[],
  patch: JsonValue[],
  schema: string | undefined,
  mergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementType([original, patch]);
  let merged: JsonValue[];
  let server = original;
  let patchItems = patch;
  if (kind === 'scalar') {
    if (isDeleteList) return original.filter((item) => !patch.some((deleted) => same(item, deleted)));
    merged = deduplicate([...original, ...patch]);
  } else {
    // PatchMetaFromStruct.Name(): the Kind of the element type, a struct for every list of objects.
    if (mergeKey === '') throw failed('cannot merge lists without merge key for struct');
    [server, patchItems] = applySpecialElements(original, patch, mergeKey);
    merged = mergeByKey(server, patchItems, mergeKey, schema);
  }
  const [inPatch, serverOnly] = partition(merged, patchItems, mergeKey);
  return normalizeOrder(inPatch, serverOnly, patchItems, server, mergeKey, kind);
}

/** sliceElementType: every element of the lists has one type, and none is a list. */
function elementType(lists: JsonValue[][]): ElementKind {
  let previous: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const type = goType(item);
      if (previous === undefined) {
        if (type === GO_SLICE) throw noListOfLists();
        previous = type;
      } else if (previous !== type) {
        throw failed(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (previous === undefined) throw failed('no elements in any of the given slices');
  return previous === GO_MAP ? 'map' : 'scalar';
}

/** deduplicateScalars, with its order (a duplicate's place is taken by the last item). */
function deduplicate(items: JsonValue[]): JsonValue[] {
  const list = [...items];
  let last = list.length - 1;
  for (let i = 0; i < last; i += 1) {
    for (let j = i + 1; j <= last; j += 1) {
      if (same(list[i], list[j])) {
        list[j] = list[last] as JsonValue;
        list.length = last;
        last -= 1;
        j -= 1;
      }
    }
  }
  return list;
}

/**
 * mergeSliceWithSpecialElements: `{<key>: v, $patch: delete}` removes the elements with that key, `$patch: replace`
 * makes the patch's other elements the whole list, `$patch: merge` is refused as upstream refuses it.
 */
function applySpecialElements(
  original: JsonValue[],
  patch: JsonValue[],
  mergeKey: string,
): [JsonValue[], JsonValue[]] {
  let server = original;
  const plain: JsonValue[] = [];
  let replace = false;
  for (const item of patch) {
    const element = item as JsonMap;
    if (!(DIRECTIVE_MARKER in element)) {
      plain.push(element);
      continue;
    }
    const directive = element[DIRECTIVE_MARKER] as JsonValue;
    if (directive === 'delete') {
      if (!(mergeKey in element)) throw noMergeKey(element, mergeKey);
      server = server.filter(
        (kept) => !(isMap(kept) && mergeKey in kept && same(kept[mergeKey], element[mergeKey])),
      );
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw failed('merging lists cannot yet be specified in the patch');
    } else {
      throw badPatchType(directive, element);
    }
  }
  return replace ? [plain, []] : [server, plain];
}

/** mergeSliceWithoutSpecialElements: an element whose key is in the original merges into it, others append. */
function mergeByKey(
  original: JsonValue[],
  patch: JsonValue[],
  mergeKey: string,
  schema: string | undefined,
): JsonValue[] {
  const merged = [...original];
  for (const item of patch) {
    const element = item as JsonMap;
    if (!(mergeKey in element)) throw noMergeKey(element, mergeKey);
    const index = merged.findIndex((candidate) => {
      if (!isMap(candidate)) throw failed(`value for key ${merged.indexOf(candidate)} is not a map`);
      return mergeKey in candidate && same(candidate[mergeKey], element[mergeKey]);
    });
    // An appended element keeps any directive nested in it, as upstream's does.
    if (index < 0) merged.push(element);
    else merged[index] = mergeMap(merged[index] as JsonMap, element, schema);
  }
  return merged;
}

/** partitionMapsByPresentInList / partitionPrimitivesByPresentInList: [in `by`, server only]. */
function partition(items: JsonValue[], by: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const inBy: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const item of items) {
    let found: boolean;
    if (mergeKey === '') found = by.some((candidate) => same(candidate, item));
    else {
      if (!isMap(item)) throw badArgType(GO_MAP, item);
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
      found = by.some((candidate) => {
        if (!isMap(candidate)) throw failed(`value for key ${by.indexOf(candidate)} is not a map`);
        return mergeKey in candidate && same(candidate[mergeKey], item[mergeKey]);
      });
    }
    (found ? inBy : serverOnly).push(item);
  }
  return [inBy, serverOnly];
}

function indexIn(list: JsonValue[], item: JsonValue, mergeKey: string, kind: ElementKind): number {
  const identity = (value: JsonValue) =>
    kind === 'map' ? (isMap(value) ? (value[mergeKey] ?? null) : null) : value;
  return list.findIndex((candidate) => same(identity(candidate), identity(item)));
}

/** normalizeSliceOrder: sorted by `order` (stable), `$patch: delete` elements last. */
function sortBy(items: JsonValue[], order: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  let toSort = items;
  let deletions: JsonValue[] = [];
  if (kind === 'map') {
    for (const item of [...items, ...order]) {
      if (!isMap(item)) throw badArgType(GO_MAP, item);
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
    }
    [toSort, deletions] = splitDeletions(items);
  }
  const sorted = toSort
    .map((item, position) => ({ item, position, rank: indexIn(order, item, mergeKey, kind) }))
    .sort((a, b) => (a.rank >= 0 && b.rank >= 0 ? a.rank - b.rank : 0) || a.position - b.position)
    .map(({ item }) => item);
  return [...sorted, ...deletions];
}

/** extractToDeleteItems: [kept, `$patch: delete` elements]. */
function splitDeletions(items: JsonValue[]): [JsonValue[], JsonValue[]] {
  const kept: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  for (const item of items) {
    if (!isMap(item)) throw badArgType(GO_MAP, item);
    (item[DIRECTIVE_MARKER] === 'delete' ? deletions : kept).push(item);
  }
  return [kept, deletions];
}

/**
 * normalizeElementOrder and mergeSortedSlice: the patch's items in the patch's order, each server-only item
 * inserted before the first patch item that follows it in the server's list.
 */
function normalizeOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: ElementKind,
): JsonValue[] {
  const right = sortBy(patchItems, patchOrder, mergeKey, kind);
  const left = sortBy(serverOnly, serverOrder, mergeKey, kind);
  const merged: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) merged.push(right[j++] as JsonValue);
    else if (j >= right.length) merged.push(left[i++] as JsonValue);
    else {
      const leftIndex = indexIn(serverOrder, left[i] as JsonValue, mergeKey, kind);
      const rightIndex = indexIn(serverOrder, right[j] as JsonValue, mergeKey, kind);
      if (leftIndex >= 0 && rightIndex >= 0 && leftIndex < rightIndex) merged.push(left[i++] as JsonValue);
      else merged.push(right[j++] as JsonValue);
    }
  }
  return merged;
}

// --- Unknown fields left by the patch.

/** The only JSON fields of the API types named with a `$`: JSONSchemaProps' (a CRD's schema). */
const DOLLAR_FIELDS = new Set(['$ref', '$schema']);

/** Removes the `$`-keys no Go field has; returns their paths as FromUnstructuredWithValidation prints them. */
function pruneUnknownDollarKeys(value: JsonValue, path: string, found: string[]): void {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) pruneUnknownDollarKeys(item, `${path}[${index}]`, found);
  } else if (isMap(value)) {
    for (const [key, item] of Object.entries(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key.startsWith('$') && !DOLLAR_FIELDS.has(key)) {
        found.push(at);
        delete value[key];
      } else pruneUnknownDollarKeys(item, at, found);
    }
  }
}

function statusError(
  code: number,
  reason: string | undefined,
  message: string,
  details?: Status['details'],
): ApiStatusError {
  return new ApiStatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason === undefined ? {} : { reason }),
    ...(details === undefined ? {} : { details }),
    code,
  });
}

export interface StrategicMergePatchOptions {
  /** The built-in kind patched: its Go type's tags decide which lists merge. */
  kind: string;
  /** The request's fieldValidation (empty: the apiserver's default, Warn). */
  fieldValidation: string;
}

/**
 * Applies a strategic merge patch to a built-in kind's object as the apiserver does. Returns the patched object and
 * the warnings (unknown fields dropped) the apiserver would send; throws an ApiStatusError with its answer.
 */
export function strategicMergePatch(
  original: JsonValue,
  patch: JsonValue,
  options: StrategicMergePatchOptions,
): { patched: JsonValue; warnings: string[] } {
  // The handler decodes the patch into a map (null leaves it empty): anything else is json.Unmarshal's 400.
  if (patch !== null && !isMap(patch)) {
    const type = Array.isArray(patch) ? 'array' : typeof patch === 'boolean' ? 'bool' : typeof patch;
    throw statusError(400, 'BadRequest', `json: cannot unmarshal ${type} into Go value of type ${GO_MAP}`);
  }
  const received = patch ?? {};
  let patched: JsonMap;
  try {
    patched = mergeMap(
      isMap(original) ? structuredClone(original) : {},
      structuredClone(received),
      options.kind,
    );
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    if (error.code === 400) throw statusError(400, 'BadRequest', error.message);
    // NewGenericServerResponse(422) keeps its own message, not the error's.
    if (error.code === 422) {
      throw statusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
    }
    throw statusError(500, undefined, error.message);
  }
  const unknown: string[] = [];
  pruneUnknownDollarKeys(patched, '', unknown);
  const errors = unknown.map((path) => `unknown field "${path}"`);
  if (errors.length > 0 && options.fieldValidation === 'Strict') {
    // errors.NewInvalid(schema.GroupKind{}, "", field.Invalid(field.NewPath("patch"), fmt.Sprintf("%+v", patchMap), ...)).
    const detail = `Invalid value: ${JSON.stringify(goValue(received))}: strict decoding error: ${errors.join(', ')}`;
    throw statusError(422, 'Invalid', ` "" is invalid: patch: ${detail}`, {
      causes: [{ reason: 'FieldValueInvalid', message: detail, field: 'patch' }],
    });
  }
  return { patched, warnings: options.fieldValidation === 'Ignore' ? [] : errors };
}
