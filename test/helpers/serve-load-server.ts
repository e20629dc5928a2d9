import { startHarness } from './serve-harness.js';

// `serve` with a FakeMitigator on a free loopback port, in its own process, for bench/serve-load.ts: prints
// `listening <url> <data-dir>`, runs until SIGTERM, then closes and removes its data directory.

const harness = await startHarness();
const url = await harness.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${url} ${harness.dir}\n`);
await new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  process.once('SIGINT', () => resolve());
});
await harness.close();
