// How fast the simulator serves the runbook's paged list: `GET /api/v1/pods?labelSelector=kubevirt.io=virt-launcher
// &fieldSelector=status.phase=Failed&limit=500` followed through every continue token, over raw HTTP, the client
// parsing each page as kubectl would. The simulator runs as its own process (`stuckfailed sim`), as in use.
//
// `--no-parse` reads the bytes only (continue token from the list head, pods counted by their `"kind":"Pod"`), which
// measures the server rather than the client's JSON.parse.
//
//   node --import tsx bench/sim-list.ts [--failed 100000] [--limit 500] [--rounds 3] [--no-parse]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    failed: { type: 'string', default: '100000' },
    limit: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    scenario: { type: 'string', default: 'image-pull' },
    'no-parse': { type: 'boolean', default: false },
  },
});
const failed = Number(values.failed);
const limit = Number(values.limit);
const rounds = Number(values.rounds);
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'stuckfailed-bench-sim-'));

const started = Date.now();
const child = spawn(
  process.execPath,
  [
    '--max-old-space-size=6144',
    '--import',
    'tsx',
    path.join(root, 'src/bin/stuckfailed.ts'),
    'sim',
    '--scenario',
    values.scenario,
    '--failed',
    String(failed),
    '--namespaces',
    '40',
    '--nodes',
    '50',
    '--kubeconfig-out',
    path.join(dir, 'kubeconfig'),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);

try {
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the simulator did not start within 10 minutes')),
      600_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening on (\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
  });
  console.log(
    `simulator with ${failed} Failed launchers ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const query = `labelSelector=${encodeURIComponent('kubevirt.io=virt-launcher')}&fieldSelector=${encodeURIComponent('status.phase=Failed')}&limit=${limit}`;
  for (let round = 1; round <= rounds; round += 1) {
    const begin = performance.now();
    let items = 0;
    let pages = 0;
    let bytes = 0;
    let token = '';
    do {
      const response = await fetch(`${url}/api/v1/pods?${query}${token ? `&continue=${token}` : ''}`);
      const text = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
      bytes += text.length;
      pages += 1;
      if (values['no-parse']) {
        // The list's metadata comes before its items: the token is in the head.
        token = /"continue":"([^"]+)"/.exec(text.slice(0, 1024))?.[1] ?? '';
        items += text.split('"kind":"Pod"').length - 1;
      } else {
        const page = JSON.parse(text) as { items: unknown[]; metadata: { continue?: string } };
        items += page.items.length;
        token = page.metadata.continue ?? '';
      }
    } while (token !== '');
    const seconds = (performance.now() - begin) / 1000;
    console.log(
      `round ${round}${values['no-parse'] ? ' (no parse)' : ''}: ${items} pods in ${pages} pages, ${seconds.toFixed(2)} s, ${Math.round(items / seconds)} pods/s, ${(bytes / 2 ** 20 / seconds).toFixed(0)} MiB/s`,
    );
  }
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
