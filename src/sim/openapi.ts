// The OpenAPI v3 documents kubectl reads before `apply`, `create -f` and `replace` (k8s.io/cli-runtime
// query_param_verifier_v3.go): it looks for the PATCH operation of the object's kind and, when that operation
// takes `fieldValidation`, leaves validation to the server (it sends fieldValidation=Strict) instead of
// downloading schemas. Without /openapi/v3 (or v2) kubectl refuses to apply at all. The documents describe
// operations only, no schemas: kubectl then computes apply patches as JSON merge patches, which every simulated
// resource accepts.

import { createHash } from 'node:crypto';
import type { ServedResource } from './resource-registry.js';

/** `api/v1` or `apis/<group>/<version>` for each group version served. */
function groupVersions(resources: readonly ServedResource[]): Map<string, ServedResource[]> {
  const byPath = new Map<string, ServedResource[]>();
  for (const served of resources) {
    for (const version of served.versions) {
      const key = served.type.group === '' ? `api/${version}` : `apis/${served.type.group}/${version}`;
      byPath.set(key, [...(byPath.get(key) ?? []), served]);
    }
  }
  return byPath;
}

function documentFor(key: string, resources: readonly ServedResource[]): Record<string, unknown> {
  const version = key.split('/').at(-1) as string;
  const paths: Record<string, unknown> = {};
  const query = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  for (const served of resources) {
    const { type } = served;
    const gvk = { group: type.group, version, kind: type.kind };
    const base = type.namespaced ? `/${key}/namespaces/{namespace}/${type.plural}` : `/${key}/${type.plural}`;
    const operation = (verb: string) => ({
      operationId: `${verb}${type.kind}`,
      parameters: [query('dryRun'), query('fieldManager'), query('fieldValidation')],
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
    });
    // Only the verbs the kind has: an access review is created, never replaced or patched.
    if (type.verbs.includes('create')) paths[base] = { post: operation('post') };
    if (type.verbs.includes('update')) {
      paths[`${base}/{name}`] = { put: operation('put'), patch: operation('patch') };
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: { schemas: {} },
  };
}

/** GET /openapi/v3: the index of group-version documents. */
export function openApiIndex(resources: readonly ServedResource[]): string {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, served] of groupVersions(resources)) {
    const hash = createHash('sha512')
      .update(JSON.stringify(documentFor(key, served)))
      .digest('hex')
      .slice(0, 128);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return JSON.stringify({ paths });
}

/** GET /openapi/v3/<api/v1 | apis/group/version>, or undefined for a group version not served. */
export function openApiDocument(resources: readonly ServedResource[], key: string): string | undefined {
  const served = groupVersions(resources).get(key);
  return served === undefined ? undefined : JSON.stringify(documentFor(key, served));
}
