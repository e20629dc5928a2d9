// Label and field selectors with the Kubernetes grammar and semantics, shared by the simulator (which answers
// `labelSelector=` / `fieldSelector=` exactly as an apiserver does) and the offline snapshot reader.
// Label grammar: k8s.io/apimachinery/pkg/labels/selector.go (Lexer, Parser, Requirement.Matches).
// Field grammar: k8s.io/apimachinery/pkg/fields/selector.go (splitTerms, splitTerm, unescapeValue).
// Selectable fields per kind: pkg/registry/core/{pod,event,namespace,node}/strategy.go (ToSelectableFields).

import type { ResourceName } from './resources.js';
import type { Event, KubeObject, Namespace, Node, Pod } from './types.js';

/** A selector the server cannot parse: the apiserver answers 400 BadRequest with this message. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

// ---------------------------------------------------------------------------------------------------------
// Label selectors

export type LabelOperator = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | '>' | '<';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** One value for = and !=, the set for in/notin, the integer's text for > and <, none for exists and !. */
  values: readonly string[];
}

/** All requirements must hold (AND). The empty selector matches everything. */
export type LabelSelector = readonly LabelRequirement[];

type Token =
  | { kind: 'identifier'; text: string }
  | { kind: 'symbol'; text: '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | ',' }
  | { kind: 'end'; text: '' };

// The lexer of labels/selector.go: these characters end an identifier; `in` and `notin` are keywords only where
// the parser expects an operator, so a label may still be called `in`.
const SPECIAL = new Set(['!', '=', '>', '<', '(', ')', ',']);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const char = input[index] as string;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const two = input.slice(index, index + 2);
    if (two === '==' || two === '!=') {
      tokens.push({ kind: 'symbol', text: two });
      index += 2;
      continue;
    }
    if (SPECIAL.has(char)) {
      tokens.push({ kind: 'symbol', text: char as '!' });
      index += 1;
      continue;
    }
    let end = index;
    while (end < input.length && !SPECIAL.has(input[end] as string) && !/\s/.test(input[end] as string)) {
      end += 1;
    }
    tokens.push({ kind: 'identifier', text: input.slice(index, end) });
    index = end;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// validation.IsQualifiedName: an optional DNS-subdomain prefix (<= 253) and a name part (<= 63).
function validateKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new SelectorError(
      `unable to parse requirement: invalid label key "${key}": prefix part must be a DNS subdomain (e.g. 'example.com')`,
    );
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    throw new SelectorError(
      `unable to parse requirement: invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be no more than 63 characters`,
    );
  }
}

// validation.IsValidLabelValue: empty, or a name part of at most 63 characters.
function validateValue(value: string): void {
  if (value.length > 63 || (value.length > 0 && !NAME_PART.test(value))) {
    throw new SelectorError(
      `unable to parse requirement: invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be no more than 63 characters`,
    );
  }
}

function expected(token: Token, what: string): SelectorError {
  return new SelectorError(`unable to parse requirement: found '${token.text}', expected: ${what}`);
}

/** Parses a label selector (`kubectl -l`), or throws SelectorError with the apiserver's message. */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = tokenize(input);
  const requirements: LabelRequirement[] = [];
  let position = 0;
  const peek = (): Token => tokens[position] as Token;
  const next = (): Token => tokens[position++] as Token;
  if (peek().kind === 'end') return requirements;
  for (;;) {
    let token = next();
    let negated = false;
    if (token.kind === 'symbol' && token.text === '!') {
      negated = true;
      token = next();
    }
    if (token.kind !== 'identifier') throw expected(token, "'!', identifier, or 'end of string'");
    const key = token.text;
    validateKey(key);
    const after = peek();
    if (negated || after.kind === 'end' || (after.kind === 'symbol' && after.text === ',')) {
      if (negated && !(after.kind === 'end' || (after.kind === 'symbol' && after.text === ','))) {
        throw expected(after, "',' or 'end of string'");
      }
      requirements.push({ key, operator: negated ? '!' : 'exists', values: [] });
    } else {
      const operatorToken = next();
      const operator = labelOperatorOf(operatorToken);
      if (operator === 'in' || operator === 'notin') {
        const open = next();
        if (open.kind !== 'symbol' || open.text !== '(') throw expected(open, "'('");
        const values = new Set<string>();
        for (;;) {
          const valueToken = peek();
          if (valueToken.kind === 'identifier') {
            validateValue(valueToken.text);
            values.add(valueToken.text);
            position += 1;
          } else if (valueToken.kind === 'symbol' && (valueToken.text === ',' || valueToken.text === ')')) {
            // `in (a,)` and `in ()` hold an empty value, as in parseValues.
            values.add('');
          } else {
            throw expected(valueToken, "',', ')' or identifier");
          }
          const separator = next();
          if (separator.kind === 'symbol' && separator.text === ')') break;
          if (separator.kind !== 'symbol' || separator.text !== ',') throw expected(separator, "',' or ')'");
        }
        requirements.push({ key, operator, values: [...values].sort() });
      } else {
        const valueToken = peek();
        let value = '';
        if (valueToken.kind === 'identifier') {
          value = valueToken.text;
          position += 1;
        } else if (
          !(valueToken.kind === 'end' || (valueToken.kind === 'symbol' && valueToken.text === ','))
        ) {
          throw expected(valueToken, 'identifier');
        }
        if (operator === '>' || operator === '<') {
          if (!/^-?\d+$/.test(value)) {
            throw new SelectorError(
              `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`,
            );
          }
        } else {
          validateValue(value);
        }
        requirements.push({ key, operator, values: [value] });
      }
    }
    const separator = next();
    if (separator.kind === 'end') break;
    if (separator.kind !== 'symbol' || separator.text !== ',')
      throw expected(separator, "',' or 'end of string'");
  }
  return requirements;
}

function labelOperatorOf(token: Token): LabelOperator {
  if (token.kind === 'identifier' && (token.text === 'in' || token.text === 'notin')) return token.text;
  if (token.kind === 'symbol') {
    if (token.text === '=' || token.text === '==') return '=';
    if (token.text === '!=' || token.text === '>' || token.text === '<') return token.text;
  }
  throw expected(token, "'=', '!=', '==', 'in', notin'");
}

/** Requirement.Matches: `!=` and `notin` also hold when the label is absent; `>`/`<` need an integer value. */
export function matchesLabels(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const requirement of selector) {
    const value = labels?.[requirement.key];
    const has = value !== undefined;
    let holds: boolean;
    switch (requirement.operator) {
      case 'exists':
        holds = has;
        break;
      case '!':
        holds = !has;
        break;
      case '=':
        holds = has && value === requirement.values[0];
        break;
      case '!=':
        holds = !has || value !== requirement.values[0];
        break;
      case 'in':
        holds = has && requirement.values.includes(value);
        break;
      case 'notin':
        holds = !has || !requirement.values.includes(value);
        break;
      case '>':
      case '<': {
        if (!has || !/^-?\d+$/.test(value)) {
          holds = false;
          break;
        }
        const actual = BigInt(value);
        const bound = BigInt(requirement.values[0] as string);
        holds = requirement.operator === '>' ? actual > bound : actual < bound;
        break;
      }
    }
    if (!holds) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Field selectors

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** The selectable fields of one object, as the strings the apiserver compares. */
export type SelectableFields = Readonly<Record<string, string>>;

function metadataFields(object: KubeObject, namespaced: boolean): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': object.metadata.name };
  if (namespaced) fields['metadata.namespace'] = object.metadata.namespace ?? '';
  return fields;
}

// Missing fields compare as "": pod strategy's PodToSelectableFields reads zero values, so `spec.nodeName=`
// selects unscheduled pods.
const FIELDS: Record<
  ResourceName,
  { names: readonly string[]; of(object: KubeObject): Record<string, string> }
> = {
  pods: {
    names: [
      'metadata.name',
      'metadata.namespace',
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    of(object) {
      const pod = object as Pod;
      return {
        ...metadataFields(pod, true),
        'spec.nodeName': pod.spec?.nodeName ?? '',
        'spec.restartPolicy': pod.spec?.restartPolicy ?? '',
        'spec.schedulerName': pod.spec?.schedulerName ?? '',
        'spec.serviceAccountName': pod.spec?.serviceAccountName ?? '',
        'spec.hostNetwork': String(pod.spec?.hostNetwork === true),
        'status.phase': pod.status?.phase ?? '',
        // status.podIP is podIPs[0] since dual-stack (pod strategy.go PodToSelectableFields).
        'status.podIP': pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP ?? '',
        'status.nominatedNodeName': pod.status?.nominatedNodeName ?? '',
      };
    },
  },
  events: {
    names: [
      'metadata.name',
      'metadata.namespace',
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
    of(object) {
      const event = object as Event;
      const involved = event.involvedObject ?? {};
      return {
        ...metadataFields(event, true),
        'involvedObject.kind': involved.kind ?? '',
        'involvedObject.namespace': involved.namespace ?? '',
        'involvedObject.name': involved.name ?? '',
        'involvedObject.uid': involved.uid ?? '',
        'involvedObject.apiVersion': involved.apiVersion ?? '',
        'involvedObject.resourceVersion': involved.resourceVersion ?? '',
        'involvedObject.fieldPath': involved.fieldPath ?? '',
        reason: event.reason ?? '',
        reportingComponent: event.reportingComponent ?? '',
        // event strategy.go: source falls back to reportingController for events.k8s.io/v1 writers.
        source: event.source?.component || event.reportingComponent || '',
        type: event.type ?? '',
      };
    },
  },
  namespaces: {
    names: ['metadata.name', 'name', 'status.phase'],
    of(object) {
      const namespace = object as Namespace;
      return {
        ...metadataFields(namespace, false),
        name: namespace.metadata.name,
        'status.phase': namespace.status?.phase ?? '',
      };
    },
  },
  nodes: {
    names: ['metadata.name', 'spec.unschedulable'],
    of(object) {
      const node = object as Node;
      return {
        ...metadataFields(node, false),
        'spec.unschedulable': String(node.spec?.unschedulable === true),
      };
    },
  },
  // Custom resources: only metadata.name and metadata.namespace (KubeVirt's CRDs declare no selectableFields).
  virtualmachineinstances: crFields(),
  virtualmachines: crFields(),
  virtualmachineinstancemigrations: crFields(),
  kubevirts: crFields(),
  leases: crFields(),
};

function crFields(namespaced = true) {
  return {
    names: ['metadata.name', 'metadata.namespace'],
    of: (object: KubeObject) => metadataFields(object, namespaced),
  } as const;
}

/**
 * The fields of a resource: the built-in kinds' own, and for any other (a CustomResourceDefinition's resource)
 * metadata.name and metadata.namespace, the apiserver's default for custom resources.
 */
function fieldsOf(resource: string, namespaced: boolean) {
  return (FIELDS as Record<string, (typeof FIELDS)[ResourceName]>)[resource] ?? crFields(namespaced);
}

/** The selectable fields of `object` for its resource; compute once per write and match many times. */
export function selectableFields(resource: string, object: KubeObject, namespaced = true): SelectableFields {
  return fieldsOf(resource, namespaced).of(object);
}

// fields/selector.go splitTerms/splitTerm: `,` separates terms unless escaped; the first of `!=`, `==`, `=`
// found scanning left to right is the operator; `\,`, `\=` and `\\` are escapes in values.
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let index = 0; index < input.length; index += 1) {
    const char = input[index] as string;
    if (char === '\\' && index + 1 < input.length) {
      current += char + (input[index + 1] as string);
      index += 1;
    } else if (char === ',') {
      terms.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current);
  return terms;
}

function unescapeValue(value: string, term: string): string {
  let result = '';
  for (let index = 0; index < value.length; index += 1) {
    const char = value[index] as string;
    if (char !== '\\') {
      if (char === '=' || char === ',') {
        throw new SelectorError(`invalid field selector: unescaped ${char} in ${JSON.stringify(term)}`);
      }
      result += char;
      continue;
    }
    const escaped = value[index + 1];
    if (escaped !== '\\' && escaped !== ',' && escaped !== '=') {
      throw new SelectorError(`invalid field selector: invalid escape sequence in ${JSON.stringify(term)}`);
    }
    result += escaped;
    index += 1;
  }
  return result;
}

/**
 * Parses a field selector for one resource, or throws SelectorError: a malformed term, or a field the resource
 * does not support (`field label not supported: <key>`, the apiserver's 400).
 */
export function parseFieldSelector(resource: string, input: string): FieldSelector {
  if (input.trim() === '') return [];
  const supported = fieldsOf(resource, true).names;
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(input)) {
    if (term === '') continue;
    const match = /!=|==|=/.exec(term);
    if (match === null) {
      throw new SelectorError(`invalid selector: '${input}'; can't understand '${term}'`);
    }
    const field = term.slice(0, match.index).trim();
    const value = unescapeValue(term.slice(match.index + match[0].length), term);
    if (!(supported as readonly string[]).includes(field))
      throw new SelectorError(`field label not supported: ${field}`);
    requirements.push({ field, operator: match[0] === '!=' ? '!=' : '=', value });
  }
  return requirements;
}

/** True when every requirement holds for these precomputed fields. */
export function matchesFieldValues(selector: FieldSelector, fields: SelectableFields): boolean {
  for (const requirement of selector) {
    const actual = fields[requirement.field] ?? '';
    if ((actual === requirement.value) !== (requirement.operator === '=')) return false;
  }
  return true;
}

/** True when every requirement holds for `object` of `resource`. */
export function matchesFields(resource: ResourceName, selector: FieldSelector, object: KubeObject): boolean {
  return selector.length === 0 || matchesFieldValues(selector, selectableFields(resource, object));
}

/** The value every matching object's `field` must equal, when the selector pins one (for indexes). */
export function requiredFieldValue(selector: FieldSelector, field: string): string | undefined {
  return selector.find((requirement) => requirement.field === field && requirement.operator === '=')?.value;
}
