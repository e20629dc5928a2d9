import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, type RedactionCounter, redactText, redactValue } from './redact.js';

// A service-account-token-shaped JWT: base64url({"alg":"RS256","kid":"x"}).base64url({"iss":...}).signature
const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLXNpZw';

function text(input: string): { output: string; count: number } {
  const counter: RedactionCounter = { count: 0 };
  return { output: redactText(input, counter), count: counter.count };
}

function value(input: unknown): { output: unknown; count: number } {
  const counter: RedactionCounter = { count: 0 };
  return { output: redactValue(input, counter), count: counter.count };
}

describe('redactText', () => {
  const cases: Array<{ name: string; input: string; expected: string; count: number }> = [
    {
      name: 'an Authorization header keeps its scheme',
      input: 'GET /apis HTTP/1.1 Authorization: Bearer sha256~Qx9fL0_abc',
      expected: `GET /apis HTTP/1.1 Authorization: Bearer ${REDACTED}`,
      count: 1,
    },
    {
      name: 'a JSON Authorization header',
      input: '{"headers":{"Authorization":"Basic dXNlcjpwYXNz"}}',
      expected: `{"headers":{"Authorization":"Basic ${REDACTED}"}}`,
      count: 1,
    },
    {
      name: 'a bearer token without a header name',
      input: 'curl -H "bearer abc.DEF-123_x" https://api',
      expected: `curl -H "bearer ${REDACTED}" https://api`,
      count: 1,
    },
    {
      name: 'a JWT in a log line',
      input: `{"level":"error","msg":"token ${JWT} rejected"}`,
      expected: `{"level":"error","msg":"token ${REDACTED} rejected"}`,
      count: 1,
    },
    {
      name: 'kubeconfig token and client-key-data lines, once each',
      input: `users:\n- name: admin\n  user:\n    token: ${JWT}\n    client-key-data: LS0tLS1CRUdJTg==\n`,
      expected: `users:\n- name: admin\n  user:\n    token: ${REDACTED}\n    client-key-data: ${REDACTED}\n`,
      count: 2,
    },
    {
      name: 'JSON password fields',
      input: '{"username":"admin","password":"hunter2"}',
      expected: `{"username":"admin","password":"${REDACTED}"}`,
      count: 1,
    },
    {
      name: 'NAME=value pairs named like credentials',
      input: 'env: DB_PASSWORD=hunter2 LOG_LEVEL=debug api_token=abc',
      expected: `env: DB_PASSWORD=${REDACTED} LOG_LEVEL=debug api_token=${REDACTED}`,
      count: 2,
    },
    {
      name: 'a PEM private key',
      input: 'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC\n-----END RSA PRIVATE KEY-----\nafter',
      expected: `key:\n${REDACTED}\nafter`,
      count: 1,
    },
    {
      name: 'an ordinary KubeVirt log line',
      input:
        '{"component":"virt-handler","level":"error","msg":"Synchronizing the VirtualMachineInstance failed.","name":"db-01"}',
      expected:
        '{"component":"virt-handler","level":"error","msg":"Synchronizing the VirtualMachineInstance failed.","name":"db-01"}',
      count: 0,
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      assert.deepEqual(text(testCase.input), { output: testCase.expected, count: testCase.count });
    });
  }
});

describe('redactValue', () => {
  it('hides every value of a Secret, in data, stringData and the last-applied copy', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'registry-pull',
        namespace: 'vm-staging',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"data":{".dockerconfigjson":"e30="}}',
        },
      },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': 'eyJhdXRocyI6e319' },
      stringData: { username: 'robot', note: 'plain' },
    };
    const { output, count } = value(secret);
    assert.deepEqual(output, {
      ...secret,
      metadata: {
        ...secret.metadata,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': REDACTED },
      },
      data: { '.dockerconfigjson': REDACTED },
      stringData: { username: REDACTED, note: REDACTED },
    });
    assert.equal(count, 4);
  });

  it('hides env values named like credentials and keeps the rest, tolerations included', () => {
    const pod = {
      kind: 'Pod',
      spec: {
        containers: [
          {
            name: 'compute',
            env: [
              { name: 'DB_PASSWORD', value: 'hunter2' },
              { name: 'SSH_KEY', value: 'ssh-ed25519 AAAA' },
              { name: 'LOG_LEVEL', value: 'debug' },
              { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
            ],
          },
        ],
        tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }],
      },
    };
    const { output, count } = value(pod);
    const container = (output as typeof pod).spec.containers[0];
    assert.deepEqual(container?.env, [
      { name: 'DB_PASSWORD', value: REDACTED },
      { name: 'SSH_KEY', value: REDACTED },
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
    ]);
    assert.deepEqual((output as typeof pod).spec.tolerations, pod.spec.tolerations);
    assert.equal(count, 2);
  });

  it('hides kubeconfig credentials and redacts inside the last-applied JSON of other objects', () => {
    const { output, count } = value({
      users: [{ name: 'admin', user: { token: 'sha256~abc', 'client-key-data': 'LS0t', username: 'admin' } }],
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            spec: { containers: [{ env: [{ name: 'PASSWORD', value: 'x' }] }] },
          }),
        },
      },
    });
    assert.deepEqual(output, {
      users: [{ name: 'admin', user: { token: REDACTED, 'client-key-data': REDACTED, username: 'admin' } }],
      metadata: {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            spec: { containers: [{ env: [{ name: 'PASSWORD', value: REDACTED }] }] },
          }),
        },
      },
    });
    assert.equal(count, 3);
  });

  it('leaves the input untouched (it returns a copy)', () => {
    const input = { kind: 'Secret', data: { a: 'YQ==' } };
    value(input);
    assert.deepEqual(input, { kind: 'Secret', data: { a: 'YQ==' } });
  });
});
