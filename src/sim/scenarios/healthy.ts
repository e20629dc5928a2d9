// healthy: no cause, so no Failed launcher whatever --failed says: the cluster holds only the usual noise (Running
// and Succeeded launchers, finished migrations, failed Job pods, look-alikes). Its churn brings up healthy VMs.

import { defineScenario } from './define-scenario.js';

export const healthyScenario = defineScenario({
  name: 'healthy',
  summary: 'A healthy cluster: no Failed virt-launcher pods (--failed is ignored), only everyday noise',
  expectedTopCause: undefined,
  causes: [],
});
