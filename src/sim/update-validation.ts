// What the apiserver refuses in an update (PUT or PATCH of the main resource) beyond what it refuses in any object
// (object-validation.ts), as of Kubernetes 1.32: for every kind, k8s.io/apiserver pkg/registry/rest/update.go
// BeforeUpdate's validateCommonFields (apimachinery ValidateObjectMetaAccessorUpdate), and for pods
// pkg/apis/core/validation/validation.go ValidatePodUpdate with ValidatePodSpecificAnnotationUpdates. Without
// this the simulator stored a pod whose env, ports or containers had changed, which a real cluster refuses with
// 422 `spec: Forbidden: pod updates may not change fields other than ...`.
//
// BeforeUpdate puts back what an update may not change before validating, so these never fail here:
// creationTimestamp, generation, resourceVersion (store.update keeps the stored ones), and an unset uid, or an
// unset deletionTimestamp/deletionGracePeriodSeconds of an object being deleted. A changed name or namespace is a
// 400 before validation (handlers' checkName, EnsureObjectNamespaceMatchesRequestNamespace: server.ts).

import { isDeepStrictEqual } from 'node:util';
import type { ResourceType } from '../kube/resources.js';
import type { KubeObject, ObjectMeta } from '../kube/types.js';
import type { FieldError } from './api-status.js';

type JsonObject = Record<string, unknown>;

const MAX_INT32 = 2147483647;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** updatablePodSpecFields, joined with "," as ValidatePodUpdate joins them (1.32 without InPlacePodVerticalScaling). */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
].join(',');

/** field.Error's ErrorBody prints a string quoted, a number or bool bare, and a nil pointer as "null". */
function goValue(value: unknown): string {
  if (value === undefined || value === null) return '"null"';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function invalid(field: string, shown: string, detail: string): FieldError {
  return { field, message: `${field}: Invalid value: ${shown}: ${detail}` };
}

function forbidden(field: string, detail: string): FieldError {
  return { field, message: `${field}: Forbidden: ${detail}` };
}

/** time.Time's String() in the apiserver's UTC, which a metav1.Time value prints as. */
function goTime(timestamp: string): string {
  const parsed = new Date(timestamp);
  if (Number.isNaN(parsed.getTime())) return JSON.stringify(timestamp);
  return `${parsed
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$|Z$/, '')} +0000 UTC`;
}

/** ValidateObjectMetaAccessorUpdate: the fields of metadata BeforeUpdate did not put back. */
function objectMetaUpdateErrors(before: ObjectMeta, next: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  if (before.deletionTimestamp !== undefined) {
    // ValidateNoNewFinalizers, whose list prints as %#v of a sorted []string.
    const kept = new Set(before.finalizers ?? []);
    const added = [...new Set(next.finalizers ?? [])].filter((name) => !kept.has(name)).sort();
    if (added.length > 0) {
      errors.push(
        forbidden(
          'metadata.finalizers',
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((name) => JSON.stringify(name)).join(', ')}}`,
        ),
      );
    }
  }
  if (next.uid && next.uid !== before.uid)
    errors.push(invalid('metadata.uid', JSON.stringify(next.uid), 'field is immutable'));
  if (before.deletionTimestamp === undefined && next.deletionTimestamp) {
    errors.push(invalid('metadata.deletionTimestamp', goTime(next.deletionTimestamp), 'field is immutable'));
  }
  const gracePeriod = next.deletionGracePeriodSeconds ?? before.deletionGracePeriodSeconds;
  if (gracePeriod !== before.deletionGracePeriodSeconds) {
    errors.push(invalid('metadata.deletionGracePeriodSeconds', goValue(gracePeriod), 'field is immutable'));
  }
  return errors;
}

/** ValidatePodSpecificAnnotationUpdates: the mirror-pod and AppArmor annotations are fixed at creation. */
function podAnnotationUpdateErrors(before: ObjectMeta, next: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  const old = before.annotations ?? {};
  const now = next.annotations ?? {};
  const guarded = (key: string) =>
    key === MIRROR_POD_ANNOTATION || key.startsWith(APPARMOR_ANNOTATION_PREFIX);
  const what = (key: string) =>
    key === MIRROR_POD_ANNOTATION ? 'mirror pod annotation' : 'AppArmor annotations';
  for (const [key, value] of Object.entries(old)) {
    if (now[key] === value || !guarded(key)) continue;
    errors.push(forbidden(`metadata.annotations[${key}]`, `may not remove or update ${what(key)}`));
  }
  for (const key of Object.keys(now)) {
    if (key in old || !guarded(key)) continue;
    errors.push(forbidden(`metadata.annotations[${key}]`, `may not add ${what(key)}`));
  }
  return errors;
}

const asArray = (value: unknown): JsonObject[] => (Array.isArray(value) ? (value as JsonObject[]) : []);
const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const asObject = (value: unknown): JsonObject => (isObject(value) ? value : {});
const asNumber = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * ValidateContainerUpdates: no container added or removed (and then nothing else is checked), no image with
 * surrounding whitespace. An empty image is object-validation's `Required value` already, which the apiserver's
 * message prints once (ErrorList.ToAggregate drops the duplicate).
 */
function containerUpdateErrors(next: unknown, before: unknown, path: string): FieldError[] | 'stop' {
  const containers = asArray(next);
  if (containers.length !== asArray(before).length) return 'stop';
  const errors: FieldError[] = [];
  containers.forEach((container, index) => {
    const image = asString(container.image);
    if (image.trim() !== image) {
      errors.push(
        invalid(
          `${path}[${index}].image`,
          JSON.stringify(image),
          'must not have leading or trailing whitespace',
        ),
      );
    }
  });
  return errors;
}

/** validateOnlyAddedTolerations: every old toleration is still there, tolerationSeconds aside. */
function sameToleration(a: JsonObject, b: JsonObject): boolean {
  return ['key', 'operator', 'value', 'effect'].every((field) => asString(a[field]) === asString(b[field]));
}

/**
 * apiequality.Semantic.DeepEqual on the decoded Go structs counts a nil and an empty slice or map as equal, and an
 * absent pointer as nil: here null, [] and {} count as absent. JSON cannot tell a map from a pointer to an empty
 * struct (`securityContext: {}`), which Go counts as set, nor a zero bool or string (equal to absent in Go unless
 * the field is a pointer), which counts as set here; quantities are compared as written ("1" is not "1000m").
 */
function semantic(value: unknown): unknown {
  if (Array.isArray(value))
    return value.length === 0 ? undefined : value.map((item) => semantic(item) ?? null);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .map(([key, item]) => [key, semantic(item)] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value ?? undefined;
}

const semanticEqual = (a: unknown, b: unknown) => isDeepStrictEqual(semantic(a), semantic(b));

/**
 * The diff after the message. Upstream prints cmp.Diff(oldPod.Spec, mungedPodSpec) of the internal Go structs
 * (Go field and type names, unchanged fields summarized as `... // N identical fields`, and whitespace cmp varies
 * on purpose so nothing parses it); this prints cmp's frame with one -/+ line per changed value, named by its JSON
 * path under spec.
 */
function specDiff(before: unknown, after: unknown): string {
  const lines: string[] = [];
  const walk = (old: unknown, now: unknown, path: string) => {
    if (isDeepStrictEqual(old, now)) return;
    const join = (key: string) => (path === '' ? key : `${path}.${key}`);
    if (Array.isArray(old) && Array.isArray(now)) {
      for (let index = 0; index < Math.max(old.length, now.length); index++)
        walk(old[index], now[index], `${path}[${index}]`);
      return;
    }
    if (isObject(old) && isObject(now)) {
      for (const key of new Set([...Object.keys(old), ...Object.keys(now)]))
        walk(old[key], now[key], join(key));
      return;
    }
    if (old !== undefined) lines.push(`- \t${path}: ${JSON.stringify(old)},`);
    if (now !== undefined) lines.push(`+ \t${path}: ${JSON.stringify(now)},`);
  };
  walk(semantic(before) ?? {}, semantic(after) ?? {}, '');
  return `  core.PodSpec{\n${lines.join('\n')}\n  }\n`;
}

/** `%#v` of a map[string]string: keys sorted, `map[string]string{"a":"b", "c":"d"}`. */
function goStringMap(map: JsonObject): string {
  const entries = Object.keys(map)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(asString(map[key]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** ValidatePodUpdate after its metadata checks, in its order. */
function podSpecUpdateErrors(beforeSpec: JsonObject, nextSpec: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of ['containers', 'initContainers']) {
    const found = containerUpdateErrors(nextSpec[key], beforeSpec[key], `spec.${key}`);
    if (found === 'stop') {
      errors.push(forbidden(`spec.${key}`, 'pod updates may not add or remove containers'));
      return errors;
    }
    errors.push(...found);
  }

  // activeDeadlineSeconds may be set, or lowered, never raised or unset.
  const deadline = asNumber(nextSpec.activeDeadlineSeconds);
  const oldDeadline = asNumber(beforeSpec.activeDeadlineSeconds);
  if (deadline !== undefined) {
    if (deadline < 0 || deadline > MAX_INT32) {
      errors.push(
        invalid(
          'spec.activeDeadlineSeconds',
          goValue(deadline),
          `must be between 0 and ${MAX_INT32}, inclusive`,
        ),
      );
      return errors;
    }
    if (oldDeadline !== undefined && oldDeadline < deadline) {
      errors.push(
        invalid(
          'spec.activeDeadlineSeconds',
          goValue(deadline),
          'must be less than or equal to previous value',
        ),
      );
      return errors;
    }
  } else if (oldDeadline !== undefined) {
    errors.push(
      invalid(
        'spec.activeDeadlineSeconds',
        goValue(undefined),
        'must not update from a positive integer to nil value',
      ),
    );
  }

  const tolerations = asArray(nextSpec.tolerations);
  if (!asArray(beforeSpec.tolerations).every((old) => tolerations.some((now) => sameToleration(old, now)))) {
    errors.push(
      forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'),
    );
  }

  // validateOnlyDeletedSchedulingGates, one error per new gate (upstream in Go map order, here in list order).
  const oldGates = asArray(beforeSpec.schedulingGates);
  const added = new Map<string, number>();
  asArray(nextSpec.schedulingGates).forEach((gate, index) => {
    added.set(asString(gate.name), index);
  });
  for (const gate of oldGates) added.delete(asString(gate.name));
  for (const [name, index] of added) {
    errors.push(
      forbidden(
        `spec.schedulingGates[${index}].name`,
        `only deletion is allowed, but found new scheduling gate '${name}'`,
      ),
    );
  }

  if (semanticEqual(nextSpec, beforeSpec)) return errors;

  // The updatable fields take their old values; whatever still differs is a forbidden change.
  const munged: JsonObject = { ...nextSpec };
  for (const key of ['containers', 'initContainers']) {
    const old = asArray(beforeSpec[key]);
    if (Array.isArray(nextSpec[key])) {
      munged[key] = asArray(nextSpec[key]).map((container, index) => ({
        ...container,
        image: old[index]?.image,
      }));
    }
  }
  munged.activeDeadlineSeconds = beforeSpec.activeDeadlineSeconds;
  munged.schedulingGates = beforeSpec.schedulingGates;
  munged.tolerations = beforeSpec.tolerations;
  const oldGrace = asNumber(beforeSpec.terminationGracePeriodSeconds);
  if (oldGrace !== undefined && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = oldGrace;
  // A gated pod may gain nodeSelector entries (validateNodeSelectorMutation). Its required node affinity may be
  // narrowed too upstream (validateNodeAffinityMutation); here a change of it is refused as any other.
  if (oldGates.length > 0 && !semanticEqual(munged.nodeSelector, beforeSpec.nodeSelector)) {
    const selector = asObject(munged.nodeSelector);
    const mutated = Object.entries(asObject(beforeSpec.nodeSelector)).some(
      ([key, value]) => selector[key] !== value,
    );
    if (mutated) {
      errors.push(
        invalid(
          'spec.nodeSelector',
          goStringMap(selector),
          'only additions to spec.nodeSelector are allowed (no mutations or deletions)',
        ),
      );
    }
    munged.nodeSelector = beforeSpec.nodeSelector;
  }
  if (!semanticEqual(munged, beforeSpec)) {
    errors.push(
      forbidden(
        'spec',
        `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\n${specDiff(beforeSpec, munged)}`,
      ),
    );
  }
  return errors;
}

/**
 * What an update of `before` to `next` breaks beyond object-validation's rules for `next` alone (empty when the
 * apiserver would store it). The status subresource is ValidatePodStatusUpdate's, not this.
 */
export function updateValidationErrors(
  type: ResourceType,
  before: KubeObject,
  next: KubeObject,
): FieldError[] {
  const errors = objectMetaUpdateErrors(before.metadata, next.metadata);
  if (type.group === '' && type.plural === 'pods') {
    const spec = (object: KubeObject) => asObject((object as KubeObject & { spec?: unknown }).spec);
    errors.push(
      ...podAnnotationUpdateErrors(before.metadata, next.metadata),
      ...podSpecUpdateErrors(spec(before), spec(next)),
    );
  }
  return errors;
}
