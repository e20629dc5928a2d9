// What the apiserver's validation refuses on create and update (422 Invalid), for the kinds the simulator serves:
// ObjectMeta (k8s.io/apimachinery pkg/api/validation ValidateObjectMetaAccessor: name, generateName, labels,
// annotations) and the part of a Pod's spec every pod must have (pkg/apis/core/validation: containers, each with a
// name and an image). The texts are apimachinery's pkg/util/validation messages, so that kubectl prints what it
// prints against a real cluster. Without this, a pod without an image or named `Bad_Name` was created here.

import type { ResourceType } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { FieldError } from './api-status.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;
const whole = (pattern: string) => new RegExp(`^${pattern}$`);
const DNS1123_LABEL_RE = whole(DNS1123_LABEL);
const DNS1123_SUBDOMAIN_RE = whole(DNS1123_SUBDOMAIN);
const QUALIFIED_NAME_RE = whole(QUALIFIED_NAME);
const LABEL_VALUE_RE = whole(LABEL_VALUE);
const QUALIFIED_NAME_MESSAGE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/** ValidateAnnotations' TotalAnnotationSizeLimitB. */
const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

/** validation.RegexError, with its two spaces before each "or". */
function regexError(message: string, pattern: string, ...examples: string[]): string {
  return `${message} (e.g. ${examples.map((example) => `'${example}', `).join(' or ')}regex used for validation is '${pattern}')`;
}

const maxLength = (length: number) => `must be no more than ${length} characters`;

function isDns1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push(maxLength(253));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN,
        'example.com',
      ),
    );
  }
  return errors;
}

function isDns1123Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLength(63));
  if (!DNS1123_LABEL_RE.test(value)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        DNS1123_LABEL,
        'my-name',
        '123-abc',
      ),
    );
  }
  return errors;
}

/** validation.IsQualifiedName: label and annotation keys, `[prefix/]name`. */
function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  const errors: string[] = [];
  if (parts.length > 2) {
    return [
      `a qualified name ${regexError(
        QUALIFIED_NAME_MESSAGE,
        QUALIFIED_NAME,
        'MyName',
        'my.name',
        '123-abc',
      )} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const name = parts.at(-1) as string;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...isDns1123Subdomain(prefix).map((error) => `prefix part ${error}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push(`name part ${maxLength(63)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errors.push(
      `name part ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`,
    );
  }
  return errors;
}

function isValidLabelValue(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLength(63));
  if (!LABEL_VALUE_RE.test(value)) {
    errors.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return errors;
}

/** field.Invalid's text: `path: Invalid value: "value": detail`. */
function invalidValue(field: string, value: unknown, detail: string): FieldError {
  return { field, message: `${field}: Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

function required(field: string, detail = ''): FieldError {
  return { field, message: `${field}: Required value${detail === '' ? '' : `: ${detail}`}` };
}

/**
 * The name rule of a kind: a DNS-1123 label for namespaces (ValidateNamespaceName), a DNS-1123 subdomain for every
 * other kind served here (pods, events, nodes, leases, KubeVirt's and every custom resource). `prefix` is
 * generateName's check, where a trailing '-' is allowed (maskTrailingDash).
 */
function nameErrors(type: ResourceType, name: string, prefix: boolean): string[] {
  const checked = prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
  return type.plural === 'namespaces' && type.group === ''
    ? isDns1123Label(checked)
    : isDns1123Subdomain(checked);
}

/** ValidateObjectMetaAccessor for the kinds served here, in its order. */
function objectMetaErrors(type: ResourceType, object: KubeObject): FieldError[] {
  const metadata = object.metadata;
  const errors: FieldError[] = [];
  if (metadata.generateName) {
    for (const message of nameErrors(type, metadata.generateName, true))
      errors.push(invalidValue('metadata.generateName', metadata.generateName, message));
  }
  if (!metadata.name) errors.push(required('metadata.name', 'name or generateName is required'));
  else {
    for (const message of nameErrors(type, metadata.name, false))
      errors.push(invalidValue('metadata.name', metadata.name, message));
  }
  for (const [key, value] of Object.entries(metadata.labels ?? {})) {
    for (const message of isQualifiedName(key)) errors.push(invalidValue('metadata.labels', key, message));
    for (const message of isValidLabelValue(String(value)))
      errors.push(invalidValue('metadata.labels', value, message));
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    for (const message of isQualifiedName(key.toLowerCase()))
      errors.push(invalidValue('metadata.annotations', key, message));
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (annotationBytes > ANNOTATIONS_SIZE_LIMIT) {
    errors.push({
      field: 'metadata.annotations',
      message: `metadata.annotations: Too long: may not be more than ${ANNOTATIONS_SIZE_LIMIT} bytes`,
    });
  }
  return errors;
}

interface PodSpecLike {
  containers?: Array<{ name?: string; image?: string }>;
}

/** The start of ValidatePodSpec's validateContainers: at least one container, each named (a DNS label) and with an image. */
function podSpecErrors(pod: KubeObject & { spec?: PodSpecLike }): FieldError[] {
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) return [required('spec.containers')];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((container, index) => {
    const path = `spec.containers[${index}]`;
    if (!container.name) errors.push(required(`${path}.name`));
    else {
      for (const message of isDns1123Label(container.name))
        errors.push(invalidValue(`${path}.name`, container.name, message));
      if (names.has(container.name)) {
        errors.push({
          field: `${path}.name`,
          message: `${path}.name: Duplicate value: ${JSON.stringify(container.name)}`,
        });
      }
      names.add(container.name);
    }
    if (!container.image) errors.push(required(`${path}.image`));
  });
  return errors;
}

/** What the apiserver's validation finds wrong with an object about to be stored (empty when it would store it). */
export function validationErrors(type: ResourceType, object: KubeObject): FieldError[] {
  const errors = objectMetaErrors(type, object);
  if (type.group === '' && type.plural === 'pods') errors.push(...podSpecErrors(object));
  return errors;
}
