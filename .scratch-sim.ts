import { startTestSimulator } from './test/helpers/simulator.js';
const h = await startTestSimulator({ scenario: 'mixed', failed: 20000, namespaces: 20, nodes: 50, seed: 3 });
console.log(h.kubeconfig);
await new Promise(() => {});
