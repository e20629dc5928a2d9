import { SCENARIOS } from './src/sim/scenarios/index.js';
import { SnapshotReader } from './src/snapshot/snapshot-reader.js';
import { diagnose } from './src/diagnosis/diagnose.js';
const failed = Number(process.argv[2] ?? 60);
for (const [name, scenario] of Object.entries(SCENARIOS)) {
  const objects = scenario.build({ failed: name === 'healthy' ? 0 : failed, namespaces: 4, nodes: 5, seed: 7, now: new Date('2026-11-23T22:00:00Z') });
  const { diagnosis } = await diagnose(new SnapshotReader(objects));
  console.log(name, 'expected', scenario.expectedTopCause, 'failed', diagnosis.failedLaunchers, 'causes', diagnosis.causes.map((c) => `${c.category}:${c.pods}@${c.confidence}`).join(' '), 'storm', diagnosis.migrations.storm, diagnosis.gatherErrors.length);
  if (process.argv[3]) for (const c of diagnosis.causes) console.log('   ', c.category, '|', c.summary, '|', c.remediation[0]);
}
