// deploy/ as it is applied: rendered offline by the real kubectl's kustomize (base and OpenShift overlay), every
// object validated against the Kubernetes OpenAPI schemas (kubernetes-models) and the prometheus-operator CRD
// schemas (@kubernetes-models/prometheus-operator), the PrometheusRule equal to what `stuckfailed rules` prints,
// the Alertmanager snippet accepted by amtool, and the Deployment hardened as docs/DEPLOY.md says.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { KUBECTL, makeHome } from '../helpers/kubectl.js';
import { runProcess } from '../helpers/run-process.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

async function render(directory: string): Promise<Manifest[]> {
  const result = await runProcess(KUBECTL, ['kustomize', directory], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: await makeHome() },
    timeoutMs: 60_000,
  });
  assert.equal(result.code, 0, result.stderr);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as Manifest);
}

type Validatable = new (data: unknown) => { validate(): void };

/** The kubernetes-models (or prometheus-operator models) class for an object's apiVersion and kind. */
async function modelFor(manifest: Manifest): Promise<Validatable> {
  const [group, version] = manifest.apiVersion.includes('/')
    ? (manifest.apiVersion.split('/') as [string, string])
    : ['', manifest.apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? await import(`@kubernetes-models/prometheus-operator/${group}/${version}/${manifest.kind}`)
      : await import(`kubernetes-models/${group === '' ? '' : `${group}/`}${version}/${manifest.kind}`);
  return module[manifest.kind] as Validatable;
}

function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name),
  );
  assert.ok(found, `${kind} ${name ?? ''} is rendered`);
  return found;
}

const base = await render('deploy');
const openshift = await render('deploy/overlays/openshift');

/** An operator's overlay of the base with deploy/components, as docs/DEPLOY.md shows it. */
async function renderWithComponents(components: string[]): Promise<Manifest[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-overlay-'));
  try {
    // kustomize takes no absolute path for a resource: the base is named from the overlay's folder.
    const deploy = path.relative(dir, path.resolve('deploy'));
    await writeFile(
      path.join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${deploy}]\ncomponents: [${components.map((name) => `${deploy}/components/${name}`).join(', ')}]\n`,
    );
    return await render(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface PodTemplate {
  securityContext: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  containers: Array<{
    env: Array<{ name: string; value?: string }>;
    volumeMounts: Array<{ name: string; mountPath: string }>;
  }>;
  volumes: Array<{
    name: string;
    secret?: { secretName: string; defaultMode?: number };
    configMap?: { name: string };
  }>;
}

function podOf(manifests: Manifest[]): PodTemplate {
  return (find(manifests, 'Deployment') as unknown as { spec: { template: { spec: PodTemplate } } }).spec
    .template.spec;
}

describe('deploy/ manifests', () => {
  for (const [label, manifests] of [
    ['base', base],
    ['openshift overlay', openshift],
  ] as const) {
    it(`${label}: every object is valid against its OpenAPI schema`, async () => {
      assert.ok(manifests.length >= 15);
      for (const manifest of manifests) {
        const Model = await modelFor(manifest);
        assert.doesNotThrow(
          () => new Model(manifest).validate(),
          `${manifest.kind} ${manifest.metadata.name}`,
        );
      }
    });
  }

  it('the validator refuses what the apiserver would refuse', async () => {
    const deployment = find(base, 'Deployment');
    const Model = await modelFor(deployment);
    const broken = structuredClone(deployment) as Manifest & { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    assert.throws(() => new Model(broken).validate(), /replicas/);
    const rule = find(base, 'PrometheusRule');
    const RuleModel = await modelFor(rule);
    assert.throws(() => new RuleModel({ ...rule, spec: { groups: [{ rules: [] }] } }).validate(), /name/);
  });

  it('the PrometheusRule holds exactly the rules `stuckfailed rules -o prometheusrule` prints', async () => {
    const printed = await runCli(['rules', '-o', 'prometheusrule', '-n', 'stuckfailed']);
    assert.equal(printed.code, 0, printed.stderr);
    const expected = parseYaml(printed.stdout) as Manifest & { spec: unknown };
    assert.deepEqual(find(base, 'PrometheusRule').spec, expected.spec);
  });

  it('the Deployment: 2 replicas on different nodes, non-root, read-only, no capabilities, probes, token from a Secret', () => {
    const deployment = find(base, 'Deployment') as Manifest & {
      spec: {
        replicas: number;
        template: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } };
      };
    };
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec as {
      securityContext: Record<string, unknown>;
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: Array<{ topologyKey: string }> };
      };
      topologySpreadConstraints: Array<{ topologyKey: string; whenUnsatisfiable: string }>;
      serviceAccountName: string;
      containers: Array<Record<string, unknown>>;
      volumes: Array<{ name: string; secret?: { secretName: string } }>;
    };
    assert.equal(pod.serviceAccountName, 'stuckfailed');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(
      pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]?.topologyKey,
      'kubernetes.io/hostname',
    );
    assert.ok(
      pod.topologySpreadConstraints.some(
        (constraint) =>
          constraint.topologyKey === 'kubernetes.io/hostname' &&
          constraint.whenUnsatisfiable === 'DoNotSchedule',
      ),
    );
    const container = pod.containers[0] as {
      args: string[];
      securityContext: {
        allowPrivilegeEscalation: boolean;
        readOnlyRootFilesystem: boolean;
        capabilities: { drop: string[] };
      };
      livenessProbe: { httpGet: { path: string } };
      readinessProbe: { httpGet: { path: string } };
      resources: { requests: { memory: string; cpu: string }; limits: { memory: string } };
      env: Array<{ name: string; value?: string }>;
    };
    assert.deepEqual(container.args, ['serve', '--store', 'kubernetes']);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.ok(
      container.resources.requests.memory &&
        container.resources.limits.memory &&
        container.resources.requests.cpu,
    );
    const tokenFile = container.env.find((variable) => variable.name === 'STUCKFAILED_WEBHOOK_TOKEN_FILE');
    assert.ok(tokenFile?.value?.startsWith('/etc/stuckfailed/webhook/'));
    assert.equal(
      pod.volumes.find((volume) => volume.name === 'webhook-token')?.secret?.secretName,
      'stuckfailed-webhook',
    );
    for (const variable of container.env)
      assert.match(variable.name, /^(STUCKFAILED_|NODE_OPTIONS$|POD_NAME$)/);
  });

  it("the pod's user can read the Secrets it mounts: root-owned files, readable through fsGroup", () => {
    const pod = podOf(base);
    assert.equal(pod.securityContext.fsGroup, pod.securityContext.runAsGroup);
    for (const volume of pod.volumes.filter((each) => each.secret !== undefined)) {
      const mode = volume.secret?.defaultMode ?? 0o644;
      assert.ok((mode & 0o040) !== 0 || (mode & 0o004) !== 0, `${volume.name}: mode ${mode.toString(8)}`);
    }
  });

  it('deploy/components turn on approvals (API tokens) and a policy, each from its own Secret or ConfigMap', async () => {
    const rendered = await renderWithComponents(['approvals', 'policy']);
    for (const manifest of rendered) {
      const Model = await modelFor(manifest);
      assert.doesNotThrow(() => new Model(manifest).validate(), `${manifest.kind} ${manifest.metadata.name}`);
    }
    const pod = podOf(rendered);
    const env = Object.fromEntries(
      (pod.containers[0]?.env ?? []).map((variable) => [variable.name, variable.value]),
    );
    const mounts = Object.fromEntries(
      (pod.containers[0]?.volumeMounts ?? []).map((mount) => [mount.name, mount.mountPath]),
    );
    assert.equal(env.STUCKFAILED_API_TOKEN_FILE, `${mounts['api-tokens']}/tokens`);
    assert.equal(env.STUCKFAILED_POLICY, `${mounts.policy}/policy.yaml`);
    assert.equal(
      pod.volumes.find((volume) => volume.name === 'api-tokens')?.secret?.secretName,
      'stuckfailed-api-tokens',
    );
    assert.equal(
      pod.volumes.find((volume) => volume.name === 'policy')?.configMap?.name,
      'stuckfailed-policy',
    );
    // Without them, neither is set: approvals are off and every plan waits.
    const plain = podOf(base).containers[0]?.env.map((variable) => variable.name) ?? [];
    assert.equal(plain.includes('STUCKFAILED_API_TOKEN_FILE') || plain.includes('STUCKFAILED_POLICY'), false);
  });

  it('the AlertmanagerConfig routes the alert to the Service with the same Secret', () => {
    const config = find(base, 'AlertmanagerConfig') as Manifest & {
      spec: {
        receivers: Array<{
          webhookConfigs: Array<{
            url: string;
            httpConfig: { authorization: { credentials: { name: string } } };
          }>;
        }>;
      };
    };
    const webhook = config.spec.receivers[0]?.webhookConfigs[0];
    assert.equal(webhook?.url, 'http://stuckfailed.stuckfailed.svc:8080/webhook/alertmanager');
    assert.equal(webhook?.httpConfig.authorization.credentials.name, 'stuckfailed-webhook');
  });

  it('amtool accepts the plain alertmanager.yml snippet and routes the alert to stuckfailed', async () => {
    const checked = await runProcess('amtool', ['check-config', 'deploy/alertmanager.yml']);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    const routed = await runProcess('amtool', [
      'config',
      'routes',
      'test',
      '--config.file=deploy/alertmanager.yml',
      'alertname=VirtLauncherPodsStuckFailed',
    ]);
    assert.equal(routed.stdout.trim(), 'stuckfailed');
  });

  it('the OpenShift overlay: openshift-cnv, no Namespace of its own, no fixed UID, user-workload monitoring, Thanos', () => {
    assert.equal(
      openshift.some((manifest) => manifest.kind === 'Namespace'),
      false,
    );
    for (const manifest of openshift) {
      if (manifest.metadata.namespace !== undefined)
        assert.equal(
          manifest.metadata.namespace,
          'openshift-cnv',
          `${manifest.kind} ${manifest.metadata.name}`,
        );
    }
    const security = (
      find(openshift, 'Deployment') as unknown as {
        spec: { template: { spec: { securityContext: Record<string, unknown> } } };
      }
    ).spec.template.spec.securityContext;
    assert.equal(security.runAsUser, undefined);
    assert.equal(security.fsGroup, undefined, 'restricted-v2 assigns the fsGroup');
    assert.equal(security.runAsNonRoot, true);
    for (const kind of ['PrometheusRule', 'ServiceMonitor', 'AlertmanagerConfig']) {
      assert.equal(find(openshift, kind).metadata.labels?.['openshift.io/user-monitoring'], 'true', kind);
    }
    const subjects = openshift
      .filter((manifest) => manifest.kind.endsWith('RoleBinding'))
      .flatMap((manifest) => (manifest.subjects as Array<{ namespace: string }>) ?? []);
    assert.ok(subjects.length >= 4 && subjects.every((subject) => subject.namespace === 'openshift-cnv'));
    assert.match(
      JSON.stringify(find(openshift, 'Deployment')),
      /thanos-querier\.openshift-monitoring\.svc:9091/,
    );
  });
});
