import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import { loadKubeConfig } from './kube-config.js';

const root = mkdtempSync(path.join(tmpdir(), 'stuckfailed-kubeconfig-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function write(text: string, name?: string): string {
  counter += 1;
  const file = path.join(root, name ?? `config-${counter}`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function kubeconfig(options: {
  current?: string;
  contexts: Array<{ name: string; namespace?: string; cluster?: string }>;
}): string {
  const contexts = options.contexts
    .map(
      (context) =>
        `- name: ${context.name}\n  context:\n    cluster: ${context.cluster ?? 'main'}\n    user: admin\n${context.namespace ? `    namespace: ${context.namespace}\n` : ''}`,
    )
    .join('');
  return `apiVersion: v1
kind: Config
clusters:
- name: main
  cluster:
    server: https://api.main.example:6443/
    insecure-skip-tls-verify: true
- name: other
  cluster:
    server: https://api.other.example:6443
users:
- name: admin
  user:
    token: secret
contexts:
${contexts}${options.current ? `current-context: ${options.current}\n` : ''}`;
}

function expectKubeconfigError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof StuckfailedError);
    assert.equal(error.code, 'KUBECONFIG');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('loadKubeConfig', () => {
  it('uses --kubeconfig and its current context, with the context namespace', () => {
    const file = write(
      kubeconfig({ current: 'prod', contexts: [{ name: 'prod', namespace: 'vms' }, { name: 'dev' }] }),
    );
    const loaded = loadKubeConfig({ kubeconfig: file, env: {} });
    assert.equal(loaded.contextName, 'prod');
    assert.equal(loaded.namespace, 'vms');
    assert.equal(loaded.server, 'https://api.main.example:6443');
    assert.equal(loaded.origin, file);
    assert.equal(loaded.user?.token, 'secret');
  });

  it('switches with --context, and defaults the namespace to "default"', () => {
    const file = write(
      kubeconfig({
        current: 'prod',
        contexts: [
          { name: 'prod', namespace: 'vms' },
          { name: 'dev', cluster: 'other' },
        ],
      }),
    );
    const loaded = loadKubeConfig({ kubeconfig: file, context: 'dev', env: {} });
    assert.equal(loaded.contextName, 'dev');
    assert.equal(loaded.namespace, 'default');
    assert.equal(loaded.server, 'https://api.other.example:6443');
    assert.equal(loaded.kubeConfig.getCurrentContext(), 'dev');
  });

  it("gives the chosen context's credentials and TLS material, relative file paths made absolute", async () => {
    const file = write(
      `apiVersion: v1
kind: Config
clusters:
- name: main
  cluster:
    server: https://api.main.example:6443
    certificate-authority: certs/ca.pem
- name: other
  cluster:
    server: https://api.other.example:6443
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: secret
- name: viewer
  user:
    token: view-only
contexts:
- name: prod
  context: {cluster: main, user: admin}
- name: dev
  context: {cluster: other, user: viewer}
current-context: prod
`,
      'tls/config',
    );
    write('not a real CA, but bytes to read\n', 'tls/certs/ca.pem');
    const loaded = loadKubeConfig({ kubeconfig: file, context: 'dev', env: {} });
    assert.equal(loaded.cluster.skipTLSVerify, true);
    const dev: RequestOptions = {};
    await loaded.kubeConfig.applyToHTTPSOptions(dev);
    assert.equal((dev.headers as OutgoingHttpHeaders | undefined)?.Authorization, 'Bearer view-only');
    assert.equal(dev.rejectUnauthorized, false);
    const prod = loadKubeConfig({ kubeconfig: file, env: {} });
    assert.equal(prod.cluster.caFile, path.join(root, 'tls', 'certs', 'ca.pem'));
    const options: RequestOptions = {};
    await prod.kubeConfig.applyToHTTPSOptions(options);
    assert.equal((options.headers as OutgoingHttpHeaders | undefined)?.Authorization, 'Bearer secret');
    assert.equal(String(options.ca), 'not a real CA, but bytes to read\n');
  });

  it('applies the credentials client-node would apply, for every kubeconfig it does not need to be loaded for', async () => {
    write('CA PEM\n', 'same/ca.pem');
    write('CERT PEM\n', 'same/cert.pem');
    write('KEY PEM\n', 'same/key.pem');
    write('sa-token', 'same/token');
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const users = {
      token: 'token: secret',
      files: 'client-certificate: cert.pem\n    client-key: key.pem',
      data: `client-certificate-data: ${b64('CERT DATA')}\n    client-key-data: ${b64('KEY DATA')}`,
      basic: 'username: admin\n    password: hunter2',
      impersonating: 'token: secret\n    as: someone-else',
      serviceAccount: `auth-provider:\n      name: tokenFile\n      config:\n        tokenFile: ${path.join(root, 'same', 'token')}`,
    };
    const clusters = {
      caFile: 'certificate-authority: ca.pem',
      caData: `certificate-authority-data: ${b64('CA DATA')}`,
      skipped: 'insecure-skip-tls-verify: true\n    tls-server-name: api.internal',
    };
    const { KubeConfig } = await import('@kubernetes/client-node');
    const comparable = (options: RequestOptions) => ({
      ca: options.ca?.toString(),
      cert: options.cert?.toString(),
      key: options.key?.toString(),
      rejectUnauthorized: options.rejectUnauthorized,
      servername: options.servername,
      auth: options.auth,
      authorization: (options.headers as OutgoingHttpHeaders | undefined)?.Authorization,
      impersonate: (options.headers as OutgoingHttpHeaders | undefined)?.['Impersonate-User'],
    });
    for (const [userKind, user] of Object.entries(users)) {
      for (const [clusterKind, cluster] of Object.entries(clusters)) {
        const file = write(
          `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://api.example:6443\n    ${cluster}\nusers:\n- name: u\n  user:\n    ${user}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
          `same/${userKind}-${clusterKind}`,
        );
        const ours: RequestOptions = {};
        await loadKubeConfig({ kubeconfig: file, env: {} }).kubeConfig.applyToHTTPSOptions(ours);
        const reference = new KubeConfig();
        reference.loadFromFile(file);
        const theirs: RequestOptions = {};
        await reference.applyToHTTPSOptions(theirs);
        assert.deepEqual(comparable(ours), comparable(theirs), `${userKind} on ${clusterKind}`);
        assert.notEqual(
          comparable(ours).authorization ?? comparable(ours).cert ?? comparable(ours).auth,
          undefined,
        );
      }
    }
  });

  it('leaves exec plugins to client-node, which runs them', async () => {
    const plugin = write(
      '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\'\n',
      'exec/plugin.sh',
    );
    chmodSync(plugin, 0o755);
    const file = write(
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://api.example:6443\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
      'exec/config',
    );
    const options: RequestOptions = {};
    await loadKubeConfig({ kubeconfig: file, env: {} }).kubeConfig.applyToHTTPSOptions(options);
    assert.equal((options.headers as OutgoingHttpHeaders | undefined)?.Authorization, 'Bearer from-exec');
  });

  it('resolves YAML merge keys, as client-node does', () => {
    const file = write(`clusters:
- name: main
  cluster: &main
    server: https://api.main.example:6443
- name: copy
  cluster:
    <<: *main
    insecure-skip-tls-verify: true
users:
- name: admin
  user: {token: secret}
contexts:
- name: copy
  context: {cluster: copy, user: admin}
current-context: copy
`);
    const loaded = loadKubeConfig({ kubeconfig: file, env: {} });
    assert.equal(loaded.server, 'https://api.main.example:6443');
    assert.equal(loaded.cluster.skipTLSVerify, true);
  });

  it('names the file of a missing --kubeconfig', () => {
    expectKubeconfigError(
      () => loadKubeConfig({ kubeconfig: path.join(root, 'nope'), env: {} }),
      /kubeconfig .*nope does not exist/,
    );
  });

  it('names the file and line of bad YAML', () => {
    const file = write('apiVersion: v1\nclusters:\n- name: a\n  cluster: [unclosed\ncontexts: []\n');
    expectKubeconfigError(
      () => loadKubeConfig({ kubeconfig: file, env: {} }),
      new RegExp(`${file}:\\d+ is not valid YAML`),
    );
  });

  it('lists the contexts when the one asked for does not exist', () => {
    const file = write(kubeconfig({ current: 'prod', contexts: [{ name: 'prod' }, { name: 'dev' }] }));
    expectKubeconfigError(
      () => loadKubeConfig({ kubeconfig: file, context: 'staging', env: {} }),
      /context "staging" is not in kubeconfig .* \(its contexts: prod, dev\)/,
    );
  });

  it('asks for --context when there is no current-context', () => {
    const file = write(kubeconfig({ contexts: [{ name: 'prod' }] }));
    expectKubeconfigError(
      () => loadKubeConfig({ kubeconfig: file, env: {} }),
      /sets no current-context; pick one with --context \(its contexts: prod\)/,
    );
  });

  it('rejects a context whose cluster is not defined', () => {
    const file = write(kubeconfig({ current: 'x', contexts: [{ name: 'x', cluster: 'ghost' }] }));
    expectKubeconfigError(() => loadKubeConfig({ kubeconfig: file, env: {} }), /uses cluster "ghost"/);
  });

  it('merges the KUBECONFIG files, first wins, and skips the missing ones', () => {
    const first = write(kubeconfig({ current: 'prod', contexts: [{ name: 'prod', namespace: 'first' }] }));
    const second = write(
      kubeconfig({
        current: 'dev',
        contexts: [
          { name: 'prod', namespace: 'second' },
          { name: 'dev', cluster: 'other' },
        ],
      }),
    );
    const env = { KUBECONFIG: [path.join(root, 'missing'), first, second].join(path.delimiter) };
    const loaded = loadKubeConfig({ env });
    assert.equal(loaded.contextName, 'prod');
    assert.equal(loaded.namespace, 'first');
    assert.equal(loadKubeConfig({ env, context: 'dev' }).server, 'https://api.other.example:6443');
    expectKubeconfigError(
      () => loadKubeConfig({ env: { KUBECONFIG: path.join(root, 'missing') } }),
      /none of the files in KUBECONFIG exist/,
    );
  });

  it('falls back to ~/.kube/config, then to the service account, then says what it tried', () => {
    const home = path.join(root, 'home');
    write(kubeconfig({ current: 'prod', contexts: [{ name: 'prod' }] }), 'home/.kube/config');
    assert.equal(loadKubeConfig({ env: { HOME: home } }).origin, path.join(home, '.kube', 'config'));

    const serviceAccountDir = path.join(root, 'sa');
    write('token-value', 'sa/token');
    write('kubevirt\n', 'sa/namespace');
    const inCluster = loadKubeConfig({
      env: {
        HOME: path.join(root, 'empty-home'),
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      },
      serviceAccountDir,
    });
    assert.equal(inCluster.origin, 'in-cluster service account');
    assert.equal(inCluster.server, 'https://10.0.0.1:443');
    assert.equal(inCluster.namespace, 'kubevirt');

    expectKubeconfigError(
      () => loadKubeConfig({ env: { HOME: path.join(root, 'empty-home') }, serviceAccountDir }),
      /no kubeconfig found/,
    );
  });
});
