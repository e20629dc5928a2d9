import type { ClusterReader } from '../cluster/reader.js';
import { loopingVmis } from './analyzers/analyze-migration.js';
import type { VmiMigrations } from './analyzers/facts.js';
import { type GatherOptions, gather } from './gather.js';

export interface FindLoopingVmisOptions extends Pick<GatherOptions, 'namespace' | 'onProgress'> {}

/**
 * The VMIs diagnose finds in a migration loop, read the way diagnose reads them (the same gather, the same
 * analyzer rule), so that `cancel-migrations --looping` and `mitigate` act on exactly the VMIs the report names.
 * Only migrations and Failed launchers decide a loop, so events and component logs are not read.
 */
export async function findLoopingVmis(
  reader: ClusterReader,
  options: FindLoopingVmisOptions = {},
): Promise<VmiMigrations[]> {
  const { facts } = await gather(reader, {
    ...options,
    eventsPerNamespace: 0,
    controllerLogPods: 0,
    handlerLogPods: 0,
    samplesPerGroup: 0,
  });
  return loopingVmis(facts.migrations);
}
