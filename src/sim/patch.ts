// The patch formats the apiserver accepts for JSON objects: JSON merge patch (RFC 7386, what `pause` sends to
// set spec.runStrategy) and JSON patch (RFC 6902, client-node's default content type for patches).

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge recursively, `null` removes a key, anything else replaces. */
export function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const result: Record<string, JsonValue> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: JsonValue;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(document: JsonValue, tokens: string[], path: string): JsonValue {
  let node: JsonValue = document;
  for (const token of tokens.slice(0, -1)) {
    const next: JsonValue | undefined = Array.isArray(node)
      ? node[Number(token)]
      : isObject(node)
        ? node[token]
        : undefined;
    if (next === undefined) throw new Error(`path ${path} does not exist`);
    node = next;
  }
  return node;
}

function read(document: JsonValue, path: string): JsonValue {
  const tokens = pointer(path);
  if (tokens.length === 0) return document;
  const parent = parentOf(document, tokens, path);
  const last = tokens[tokens.length - 1] as string;
  const value = Array.isArray(parent) ? parent[Number(last)] : isObject(parent) ? parent[last] : undefined;
  if (value === undefined) throw new Error(`path ${path} does not exist`);
  return value;
}

function remove(document: JsonValue, path: string): void {
  const tokens = pointer(path);
  const parent = parentOf(document, tokens, path);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = Number(last);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length)
      throw new Error(`path ${path} does not exist`);
    parent.splice(index, 1);
  } else if (isObject(parent) && last in parent) {
    delete parent[last];
  } else {
    throw new Error(`path ${path} does not exist`);
  }
}

function add(document: JsonValue, path: string, value: JsonValue, replace: boolean): JsonValue {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(document, tokens, path);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length)
      throw new Error(`path ${path} is out of range`);
    if (replace) parent[index] = value;
    else parent.splice(index, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) throw new Error(`path ${path} does not exist`);
    parent[last] = value;
  } else {
    throw new Error(`path ${path} does not exist`);
  }
  return document;
}

/** RFC 6902 on a copy of `document`; throws when an operation cannot apply (the apiserver's 422). */
export function jsonPatch(document: JsonValue, operations: JsonPatchOperation[]): JsonValue {
  let result = structuredClone(document);
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
        result = add(result, operation.path, operation.value ?? null, false);
        break;
      case 'replace':
        result = add(result, operation.path, operation.value ?? null, true);
        break;
      case 'remove':
        remove(result, operation.path);
        break;
      case 'test':
        if (JSON.stringify(read(result, operation.path)) !== JSON.stringify(operation.value ?? null)) {
          throw new Error(`test failed for ${operation.path}`);
        }
        break;
      case 'move':
      case 'copy': {
        const value = structuredClone(read(result, operation.from ?? ''));
        if (operation.op === 'move') remove(result, operation.from ?? '');
        result = add(result, operation.path, value, false);
        break;
      }
      default:
        throw new Error(`unknown op ${JSON.stringify((operation as { op: unknown }).op)}`);
    }
  }
  return result;
}
