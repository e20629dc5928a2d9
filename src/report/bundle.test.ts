import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extract, list } from 'tar';
import { parse } from 'yaml';
import type { Artifact } from '../diagnosis/artifacts.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { StuckfailedError } from '../errors.js';
import { writeBundle } from './bundle.js';
import { diagnosisSchema } from './schema.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = async (): Promise<Diagnosis> =>
  diagnosisSchema.parse(
    JSON.parse(await readFile(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

// Planted credentials: none of these may appear anywhere in the bundle.
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YSJ9.c2lnbmF0dXJl';
const BEARER = 'sha256~PlantedBearerTokenValue123';
const SECRET_DATA = 'cGxhbnRlZC1zZWNyZXQtZGF0YQ==';
const SECRET_STRING = 'planted-string-data';
const ENV_PASSWORD = 'planted-env-password';
const CLIENT_KEY = 'LS0tLS1CRUdJTiBQbGFudGVkS2V5';
const YAML_SECRET = 'cGxhbnRlZC15YW1sLXNlY3JldA==';
const PLANTED = [JWT, BEARER, SECRET_DATA, SECRET_STRING, ENV_PASSWORD, CLIENT_KEY, YAML_SECRET];

const artifacts: Artifact[] = [
  {
    path: 'pods/vm-prod/virt-launcher-db-01-x7k2q.yaml',
    content: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'virt-launcher-db-01-x7k2q',
        namespace: 'vm-prod',
        labels: { 'kubevirt.io': 'virt-launcher' },
      },
      spec: {
        containers: [
          {
            name: 'compute',
            env: [
              { name: 'DB_PASSWORD', value: ENV_PASSWORD },
              { name: 'POD_NAME', value: 'virt-launcher-db-01-x7k2q' },
            ],
          },
        ],
      },
      status: { phase: 'Failed', reason: 'Error' },
    },
  },
  {
    path: 'secrets/vm-staging/registry-pull.json',
    content: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'registry-pull', namespace: 'vm-staging' },
      data: { '.dockerconfigjson': SECRET_DATA },
      stringData: { password: SECRET_STRING },
    },
  },
  {
    path: 'kubeconfig/support.yaml',
    content: { users: [{ name: 'sre', user: { token: BEARER, 'client-key-data': CLIENT_KEY } }] },
  },
  {
    path: 'logs/openshift-cnv/virt-handler-x2k9p/virt-handler.log',
    content: [
      '{"component":"virt-handler","level":"info","msg":"Processing event vm-prod/db-01","timestamp":"2026-11-23T21:40:00.000001Z"}',
      `{"component":"virt-handler","level":"error","msg":"auth failed for ${JWT}","timestamp":"2026-11-23T21:40:01.000001Z"}`,
      `GET https://10.0.0.1/api Authorization: Bearer ${BEARER}`,
    ].join('\n'),
  },
  {
    path: 'manifests/raw-secret.yaml',
    content: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: raw\ndata:\n  key: ${YAML_SECRET}\n`,
  },
  {
    path: 'prometheus/failed-by-namespace.json',
    content: { status: 'success', data: { resultType: 'vector', result: [] } },
  },
];

describe('writeBundle', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'stuckfailed-bundle-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  /** A fresh empty folder per test, so each can check what it leaves behind. */
  const freshDir = () => mkdtemp(join(root, 'case-'));

  it('writes a 0600 tar.gz with the reports, the README and every artifact under its path', async () => {
    const dir = await freshDir();
    const path = join(dir, 'bundle.tar.gz');
    const renderedAt = new Date('2026-11-23T22:00:00.000Z');
    const summary = await writeBundle(path, { diagnosis: await fixture(), artifacts, renderedAt });

    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const entries: Array<{ path: string; mode: number | undefined; mtime: Date | undefined }> = [];
    await list({
      file: path,
      onReadEntry: (entry) => entries.push({ path: entry.path, mode: entry.mode, mtime: entry.mtime }),
    });
    assert.deepEqual(
      entries.map((entry) => entry.path),
      [
        'report.json',
        'report.md',
        'report.html',
        ...artifacts.map((artifact) => artifact.path),
        'README.txt',
      ],
    );
    assert.deepEqual(
      summary.files,
      entries.map((entry) => entry.path),
    );
    for (const entry of entries) {
      assert.equal(entry.mode, 0o600, entry.path);
      assert.equal(entry.mtime?.toISOString(), renderedAt.toISOString(), entry.path);
    }
    // Nothing but the bundle is left in the folder: the temporary file was moved into place.
    assert.deepEqual(await readdir(dir), ['bundle.tar.gz']);
  });

  it('redacts the planted token, Secret, env password, client key and JWT everywhere', async () => {
    const dir = await freshDir();
    const path = join(dir, 'redacted.tar.gz');
    const out = join(dir, 'extracted');
    const diagnosis = await fixture();
    diagnosis.gatherErrors.push({ type: 'unauthorized', message: `token ${JWT} expired` });
    const summary = await writeBundle(path, { diagnosis, artifacts });
    await mkdir(out);
    await extract({ file: path, cwd: out });

    const files = await readAll(out);
    assert.equal(files.size, artifacts.length + 4);
    for (const [file, text] of files) {
      for (const planted of PLANTED) assert.ok(!text.includes(planted), `${planted} in ${file}`);
    }
    // Objects are written as YAML, or as JSON when the path says so; what is not a credential survives.
    const pod = parse(files.get('pods/vm-prod/virt-launcher-db-01-x7k2q.yaml') ?? '');
    assert.deepEqual(pod.spec.containers[0].env, [
      { name: 'DB_PASSWORD', value: '<redacted>' },
      { name: 'POD_NAME', value: 'virt-launcher-db-01-x7k2q' },
    ]);
    const secret = JSON.parse(files.get('secrets/vm-staging/registry-pull.json') ?? '');
    assert.deepEqual(secret.data, { '.dockerconfigjson': '<redacted>' });
    assert.match(
      files.get('logs/openshift-cnv/virt-handler-x2k9p/virt-handler.log') ?? '',
      /Processing event vm-prod\/db-01/,
    );
    assert.equal(diagnosisSchema.parse(JSON.parse(files.get('report.json') ?? '')).failedLaunchers, 412);
    assert.match(files.get('report.md') ?? '', /^# VirtLauncherPodsStuckFailed diagnosis/);
    assert.match(files.get('report.html') ?? '', /^<!doctype html>/);

    // 1 env + 2 Secret values + token + client key + JWT and bearer in the log + raw Secret + JWT in the report.
    assert.equal(summary.redactions, 9);
    const readme = files.get('README.txt') ?? '';
    assert.match(readme, /^ {2}redactions: 9$/m);
    assert.match(readme, /^ {2}logs\/ +1 file$/m);
    assert.match(readme, /412 Failed virt-launcher pods, threshold 200 \(condition met\)/);
  });

  it('refuses to overwrite an existing file unless forced', async () => {
    const dir = await freshDir();
    const path = join(dir, 'existing.tar.gz');
    await writeFile(path, 'precious');
    await assert.rejects(
      writeBundle(path, { diagnosis: await fixture(), artifacts: [] }),
      (error: unknown) =>
        error instanceof StuckfailedError && error.code === 'INPUT' && /--force/.test(error.message),
    );
    assert.equal(await readFile(path, 'utf8'), 'precious');

    await writeBundle(path, { diagnosis: await fixture(), artifacts: [], force: true });
    const entries: string[] = [];
    await list({ file: path, onReadEntry: (entry) => entries.push(entry.path) });
    assert.deepEqual(entries, ['report.json', 'report.md', 'report.html', 'README.txt']);
  });

  it('accepts artifacts as an async stream, however many arrive before the archive is written', async () => {
    const path = join(await freshDir(), 'streamed.tar.gz');
    async function* streamed(): AsyncGenerator<Artifact> {
      for (let index = 0; index < 50; index += 1) {
        // Yield to the event loop now and then, as a real gatherer does between API pages.
        if (index % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
        // ~20 kB of hashes each, which gzip cannot shrink much: the file stream pushes back while entries keep
        // arriving, the situation in which node-tar's Pack stalled (see bundle.ts).
        const lines = Array.from({ length: 300 }, (_, line) =>
          createHash('sha256').update(`${index}/${line}`).digest('hex'),
        );
        yield { path: `logs/ns-${index}/compute.log`, content: lines.join('\n') };
      }
    }
    const summary = await writeBundle(path, { diagnosis: await fixture(), artifacts: streamed() });
    assert.equal(summary.files.length, 54);
    const listed: string[] = [];
    await list({ file: path, onReadEntry: (entry) => listed.push(entry.path) });
    assert.deepEqual(listed, summary.files);
  });

  it("draws the HTML report's trend chart from the diagnosis itself, as report.json re-renders it", async () => {
    const dir = await freshDir();
    const path = join(dir, 'with-prometheus.tar.gz');
    await writeBundle(path, { diagnosis: withPrometheus(await fixture()), artifacts: [] });
    const out = join(dir, 'out');
    await mkdir(out);
    await extract({ file: path, cwd: out });
    const files = await readAll(out);
    assert.equal(
      diagnosisSchema.parse(JSON.parse(files.get('report.json') ?? '')).prometheus?.trend.length,
      2,
    );
    assert.match(files.get('report.html') ?? '', /<polyline class="trend" fill="none" points="[^"]+"/);
    assert.match(files.get('report.md') ?? '', /^Prometheus: alert firing since/m);
  });

  it('rejects a path that escapes the bundle or collides, and leaves no file behind', async () => {
    const dir = await freshDir();
    for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'report.json']) {
      const path = join(dir, 'bad.tar.gz');
      await assert.rejects(
        writeBundle(path, { diagnosis: await fixture(), artifacts: [{ path: bad, content: 'x' }] }),
        /bundle artifact path/,
      );
      assert.deepEqual(await readdir(dir), [], bad);
    }
  });
});

async function readAll(root: string, prefix = ''): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      for (const [file, text] of await readAll(root, relative)) files.set(file, text);
    } else {
      files.set(relative, await readFile(join(root, relative), 'utf8'));
    }
  }
  return files;
}
