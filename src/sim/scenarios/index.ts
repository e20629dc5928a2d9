import { cniScenario } from './cni.js';
import { controlPlaneScenario } from './control-plane.js';
import { evictionScenario } from './eviction.js';
import { healthyScenario } from './healthy.js';
import { imagePullScenario } from './image-pull.js';
import { initContainerScenario } from './init-container.js';
import { migrationStormScenario } from './migration-storm.js';
import { mixedScenario } from './mixed.js';
import { nodeRebootScenario } from './node-reboot.js';
import { nodeShutdownScenario } from './node-shutdown.js';
import { storageScenario } from './storage.js';
import type { Scenario, ScenarioName } from './types.js';

export type { Scenario, ScenarioName, ScenarioOptions, ScenarioState } from './types.js';
export { SCENARIO_NAMES } from './types.js';

const BY_NAME: Record<ScenarioName, Scenario> = {
  healthy: healthyScenario,
  'image-pull': imagePullScenario,
  cni: cniScenario,
  storage: storageScenario,
  'migration-storm': migrationStormScenario,
  'control-plane': controlPlaneScenario,
  eviction: evictionScenario,
  'node-shutdown': nodeShutdownScenario,
  'init-container': initContainerScenario,
  'node-reboot': nodeRebootScenario,
  mixed: mixedScenario,
};

/** Every scenario, in SCENARIO_NAMES order. */
export const SCENARIOS: readonly Scenario[] = Object.values(BY_NAME);

export function getScenario(name: ScenarioName): Scenario {
  return BY_NAME[name];
}
