import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/types.js';
import { ApiStatusError } from './api-status.js';
import {
  CRD_RESOURCE,
  compareKubeVersions,
  ResourceRegistry,
  servedResourceOf,
  validateCrd,
} from './resource-registry.js';
import { ObjectStore } from './store.js';
import { crdPrinter, jsonPathValue } from './table.js';

function crd(overrides: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1alpha1', served: true, storage: false },
        { name: 'v1', served: true, storage: true, subresources: { status: {} } },
        { name: 'v1beta2', served: false, storage: false },
      ],
      ...overrides,
    },
  } as KubeObject;
}

describe('CRD handling', () => {
  it('orders versions as the apiserver does: GA, beta, alpha, then others', () => {
    const versions = ['v1alpha1', 'foo', 'v2', 'v1beta1', 'v1', 'v2beta3', 'v10alpha1'];
    assert.deepEqual(versions.sort(compareKubeVersions), [
      'v2',
      'v1',
      'v2beta3',
      'v1beta1',
      'v10alpha1',
      'v1alpha1',
      'foo',
    ]);
  });

  it('serves the served versions, stores at the storage version, defaults singular and listKind', () => {
    const served = servedResourceOf(crd());
    assert.deepEqual(served.versions, ['v1', 'v1alpha1']);
    assert.equal(served.type.version, 'v1');
    assert.equal(served.type.singular, 'widget');
    assert.equal(served.type.listKind, 'WidgetList');
    assert.deepEqual(served.subresources, ['status']);
    assert.deepEqual(
      served.printerColumns?.('v1').map((column) => column.name),
      ['Age'],
    );
  });

  it('refuses an invalid CRD with every field error, as a 422', () => {
    let caught: unknown;
    try {
      validateCrd({ ...crd({ scope: 'Global', versions: [] }), metadata: { name: 'x.example.com' } });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ApiStatusError);
    assert.equal(caught.code, 422);
    assert.equal(caught.status.details?.causes?.length, 3);
    assert.match(
      caught.message,
      /^CustomResourceDefinition\.apiextensions\.k8s\.io "x\.example\.com" is invalid: \[/,
    );
  });

  it('follows the store: a CRD written registers its resource, deleting it removes the resource and its objects', () => {
    const store = new ObjectStore({ kubeletTimers: false });
    const registry = new ResourceRegistry(store, () => Date.parse('2026-11-29T10:00:00Z'));
    store.create(CRD_RESOURCE, crd());
    assert.ok(registry.find('example.com', 'v1alpha1', 'widgets'));
    assert.equal(registry.find('example.com', 'v1beta2', 'widgets'), undefined);
    const stored = JSON.parse(
      (store.get(CRD_RESOURCE, undefined, 'widgets.example.com')?.body ?? '').toString(),
    ) as {
      status: { conditions: Array<{ type: string }> };
    };
    assert.deepEqual(
      stored.status.conditions.map((condition) => condition.type),
      ['NamesAccepted', 'Established'],
    );
    store.create('widgets.example.com', {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'a' },
    });
    store.delete(CRD_RESOURCE, undefined, 'widgets.example.com');
    assert.equal(registry.find('example.com', 'v1', 'widgets'), undefined);
    assert.equal(store.has('widgets.example.com'), false);
  });
});

describe('CRD printer columns', () => {
  it('reads simple JSONPaths: fields, indexes, quoted and escaped keys', () => {
    const object = {
      status: { conditions: [{ type: 'Ready' }], 'a.b': 1 },
      metadata: { labels: { 'x.io/y': 'z' } },
    };
    assert.equal(jsonPathValue(object, '.status.conditions[0].type'), 'Ready');
    assert.equal(jsonPathValue(object, ".status['a.b']"), 1);
    assert.equal(jsonPathValue(object, '.metadata.labels.x\\.io/y'), 'z');
    assert.equal(jsonPathValue(object, '.status.missing.deeper'), undefined);
  });

  it('types cells as the apiextensions table convertor does', () => {
    const printer = crdPrinter([
      { name: 'Count', type: 'integer', jsonPath: '.spec.count' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Since', type: 'date', jsonPath: '.status.since' },
      { name: 'Ok', type: 'boolean', jsonPath: '.status.phase' },
    ]);
    const now = Date.parse('2026-11-29T10:00:00Z');
    const object = {
      metadata: { name: 'w' },
      spec: { count: 3 },
      status: { phase: 'Up', since: '2026-11-29T09:58:00Z' },
    } as unknown as KubeObject;
    assert.deepEqual(printer.cells(object, now), ['w', 3, 'Up', '2m', null]);
    assert.deepEqual(
      printer.columns.map((column) => column.name),
      ['Name', 'Count', 'Phase', 'Since', 'Ok'],
    );
  });
});
