import { getScenario } from './src/sim/scenarios/index.js';
import { SnapshotReader } from './src/snapshot/snapshot-reader.js';
import { gather } from './src/diagnosis/gather.js';
const objects = getScenario('storage').build({ failed: Number(process.argv[2] ?? 3000), namespaces: 4, nodes: 5, seed: 7, now: new Date('2026-11-23T22:00:00Z') });
const r = await gather(new SnapshotReader(objects));
for (const g of r.facts.groups) console.log(g.count, g.kind, g.reason, g.container, g.eventClasses, g.examples[0]?.name, g.message?.slice(0,80));
