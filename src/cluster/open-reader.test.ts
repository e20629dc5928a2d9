import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StuckfailedError } from '../errors.js';
import { openClusterReader } from './open-reader.js';

const dumps = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/dumps');
const scratch = mkdtempSync(path.join(tmpdir(), 'stuckfailed-open-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('openClusterReader', () => {
  it('reads a snapshot with --from, and says what it skipped', async () => {
    const warnings: string[] = [];
    const opened = await openClusterReader({
      env: {},
      from: [path.join(dumps, 'multi-doc.yaml')],
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(opened.reader.source, 'snapshot');
    assert.equal(opened.defaultNamespace, undefined);
    assert.equal((await opened.reader.get('nodes', 'worker-3'))?.kind, 'Node');
    assert.deepEqual(warnings, ['skipped 1 object(s) of kinds stuckfailed does not read: v1/ConfigMap (1)']);
    opened.close();
  });

  it('opens the live API from the kubeconfig, with the context namespace, without sending anything', async () => {
    const kubeconfig = path.join(scratch, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u, namespace: vms}}]',
        'current-context: x',
      ].join('\n'),
    );
    const opened = await openClusterReader({ kubeconfig, env: {} });
    assert.equal(opened.reader.source, 'api');
    assert.equal(opened.defaultNamespace, 'vms');
    opened.close();
  });

  it('fails with a KUBECONFIG error before any request when the kubeconfig is unusable', async () => {
    await assert.rejects(
      openClusterReader({ kubeconfig: path.join(scratch, 'missing'), env: {} }),
      (error: unknown) => {
        assert.ok(error instanceof StuckfailedError);
        assert.equal(error.code, 'KUBECONFIG');
        return true;
      },
    );
  });
});
