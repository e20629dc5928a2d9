#!/usr/bin/env -S node --max-semi-space-size=4
import { setFlagsFromString } from 'node:v8';
import { commandFirst, main } from '../cli/main.js';

// Peak memory (docs/ARCHITECTURE.md, "Memory"). In any run that allocates for more than a second, V8 grows its young
// generation to two 16 MB halves and its old generation to several times what is live. The first line caps the
// halves at 4 MB: that can only be set as Node starts, so `node dist/bin/stuckfailed.js` runs without it. The
// writing commands, whose live set is the plan and the writes in flight, let the old generation grow by a fifth at a
// time; diagnose keeps V8's default, which it is faster with at 100,000 pods.
const WRITING_COMMANDS = new Set(['clean', 'mitigate', 'cancel-migrations', 'pause']);
const args = commandFirst(process.argv.slice(2));
if (WRITING_COMMANDS.has(args[0] ?? '')) setFlagsFromString('--heap-growing-percent=20');

function waitForInterrupt(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  waitForInterrupt,
});
