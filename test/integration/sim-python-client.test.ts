// The official Python client (Debian's python3-kubernetes) against the simulator: a third client beside kubectl and
// client-node, through its generated APIs and models (test/fixtures/python-client-calls.py makes the calls).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clientConformanceCluster } from '../helpers/cluster-fixtures.js';
import { runProcess } from '../helpers/run-process.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

/** Debian's interpreter, which has python3-kubernetes (scripts/install-deps.sh), whatever python3 is first on PATH. */
const PYTHON = '/usr/bin/python3';
const CALLS = fileURLToPath(new URL('../fixtures/python-client-calls.py', import.meta.url));

interface Seen {
  pagedList: { names: string[]; pages: number };
  read: { phase: string; uid: string; kind: string };
  events: number;
  dryRunDelete: { kind: string; stillThere: boolean };
  wrongUid: [number, string];
  afterDelete: [number, string];
  patched: { label: string; annotations: Record<string, string> };
  watch: Array<[string, string]>;
  watchCompacted: [number, string];
  vmRunStrategy: string;
  vmims: string[];
  log: string[];
  version: string;
}

describe('the Python client against the simulator', () => {
  let handle: SimulatorHandle & { stop(): Promise<void> };
  let seen: Seen;
  before(async () => {
    handle = await startTestSimulator({ objects: clientConformanceCluster(), bookmarkIntervalMs: 50 });
    const result = await runProcess(PYTHON, [CALLS, handle.kubeconfig], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    seen = JSON.parse(result.stdout) as Seen;
  });
  after(async () => {
    await handle.stop();
  });

  it('pages the Failed launchers with limit and _continue, in key order', () => {
    assert.equal(seen.pagedList.names.length, 23);
    assert.equal(seen.pagedList.pages, 5);
    assert.deepEqual(seen.pagedList.names, [...seen.pagedList.names].sort());
  });

  it('reads a pod and its events into the models', () => {
    assert.deepEqual(seen.read, { phase: 'Failed', uid: 'uid-0', kind: 'Pod' });
    assert.equal(seen.events, 1);
  });

  it('deletes with preconditions: dry run keeps the pod, a wrong uid is 409 Conflict, then 404 NotFound', () => {
    assert.deepEqual(seen.dryRunDelete, { kind: 'Pod', stillThere: true });
    assert.deepEqual(seen.wrongUid, [409, 'Conflict']);
    assert.deepEqual(seen.afterDelete, [404, 'NotFound']);
    assert.equal(handle.sim.store.get('pods', 'vms-0', 'virt-launcher-vm0-abcde'), undefined);
  });

  it('applies its strategic merge patch and its JSON patch', () => {
    assert.equal(seen.patched.label, 'python');
    assert.deepEqual(seen.patched.annotations, { 'stuckfailed.io/probe': 'json-patch' });
  });

  it("watches from a list's resourceVersion, and a compacted version ends the watch with 410 Expired", () => {
    assert.deepEqual(seen.watch.at(-1), ['DELETED', 'virt-launcher-vm1-abcde']);
    assert.deepEqual(seen.watchCompacted, [410, 'Expired']);
  });

  it("patches a VM's runStrategy and lists vmims as custom objects", () => {
    assert.equal(seen.vmRunStrategy, 'Halted');
    assert.deepEqual(seen.vmims, ['mig-done Succeeded', 'mig-other Failed', 'mig-running Running']);
  });

  it("reads a log's tail and the server version", () => {
    assert.equal(seen.log.length, 3);
    assert.match(seen.log[2] ?? '', /line 19 of virt-controller-a/);
    assert.match(seen.version, /^v1\.\d+\.\d+/);
  });
});
