import { startTestSimulator } from './test/helpers/simulator.js';
import { openClusterReader } from './src/cluster/open-reader.js';
import { RESOURCES, type ResourceName } from './src/kube/resources.js';
import type { Pod } from './src/kube/types.js';
const h = await startTestSimulator({ scenario: 'image-pull', failed: 60, namespaces: 4, nodes: 5, seed: 1 });
const o = await openClusterReader({ kubeconfig: h.kubeconfig, env: {} });
for (const r of Object.keys(RESOURCES) as ResourceName[]) { const t = Date.now(); let n = 0; for await (const _ of o.reader.list(r)) n++; console.log(r, n, Date.now() - t); }
let t = Date.now();
for await (const pod of o.reader.list<Pod>('pods', { labelSelector: 'kubevirt.io in (virt-controller,virt-handler)' })) {
  for (const c of pod.spec.containers) { const t2 = Date.now(); const l = await o.reader.readLog({ namespace: pod.metadata.namespace ?? '', pod: pod.metadata.name, container: c.name }); console.log(pod.metadata.name, c.name, l.length, Date.now() - t2); }
}
console.log('logs', Date.now() - t);
o.close(); await h.stop();
