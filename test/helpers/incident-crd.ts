import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubeApi } from '../../src/cluster/kube-api.js';
import type { KubeObject } from '../../src/kube/types.js';
import type { RunningSimulator } from '../../src/sim/index.js';
import { CRD_RESOURCE } from '../../src/sim/resource-registry.js';

/** Applies deploy/'s Namespace and Incident CRD to a simulator, as an admin does before installing serve. */
export async function applyServeBase(sim: RunningSimulator): Promise<void> {
  sim.store.create('namespaces', parse(await readFile('deploy/base/namespace.yaml', 'utf8')) as KubeObject);
  sim.store.create(CRD_RESOURCE, parse(await readFile('deploy/base/crd.yaml', 'utf8')) as KubeObject);
}

/** A KubeApi on an HTTP simulator (no credentials), with no client-side rate limit. */
export function simKubeApi(sim: RunningSimulator): KubeApi {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'sim', server: sim.url }],
    users: [{ name: 'admin' }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'admin' }],
    currentContext: 'sim',
  });
  return new KubeApi({ kubeConfig, qps: 0 });
}
