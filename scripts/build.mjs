// The build: src/bin/stuckfailed.ts bundled by esbuild into dist/bin/, one chunk per command (commands.ts imports
// each when it runs). Why a bundle: a small cleanup's time is mostly start-up, and Node spends it resolving and
// reading modules one file at a time (yaml alone is 73 files); the bundle starts about 45 ms sooner. Types are
// checked by `npm run lint` (tsc), which emits nothing.
//
// Bundled: our code and the dependencies every command loads at start. External (loaded from node_modules when a
// command needs them): the rest, large and loaded late (client-node for TLS credentials, fastify for serve, ...).
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const BUNDLED = new Set(['commander', 'picocolors', 'yaml']);
const root = new URL('..', import.meta.url).pathname;
const { dependencies } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}src/bin/stuckfailed.ts`],
  outdir: `${root}dist/bin`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: Object.keys(dependencies).filter((name) => !BUNDLED.has(name)),
  // commander and yaml are CommonJS and require Node's built-in modules: an ES module has no `require` of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(`${root}dist/bin/stuckfailed.js`, 0o755);
