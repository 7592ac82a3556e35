import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ENV_VARIABLES } from '../../server/src/config.ts';
import { jobOptions } from '../../server/src/core/jobs/job-map.ts';
import { ROOT } from '../support/spawn.ts';
import { requires, tool } from '../support/requires-tool.ts';
import { run } from './support/tools.ts';

/* The kustomize base in deploy/kubernetes/base, rendered here by a small renderer of the subset of
   kustomize it uses (resources, labels, images) — no Helm or kustomize binary installs from the
   registries these machines reach — then validated object by object against the Kubernetes
   OpenAPI schemas shipped in `kubernetes-models` (and KEDA's CRD schema in
   `@kubernetes-models/keda`). Where `kubectl` is installed, its `kubectl kustomize` output must be
   the same set of objects. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const BASE = path.join(ROOT, 'deploy/kubernetes/base');

async function render(dir: string): Promise<Any[]> {
  const kustomization = parse(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8'));
  const supported = new Set(['apiVersion', 'kind', 'resources', 'labels', 'images']);
  for (const key of Object.keys(kustomization))
    expect(supported.has(key), `kustomization field ${key} is not rendered by this test`).toBe(true);
  const objects: Any[] = [];
  for (const file of kustomization.resources as string[]) {
    for (const doc of parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) {
      expect(doc.errors, file).toEqual([]);
      const object = doc.toJS();
      if (object) objects.push(object);
    }
  }
  for (const object of objects) {
    for (const { pairs, includeSelectors } of kustomization.labels ?? []) {
      expect(includeSelectors).toBe(false);
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
    }
    const pod = object.spec?.template?.spec;
    for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      const image = (kustomization.images ?? []).find((i: Any) => i.name === container.image.split(':')[0]);
      if (image) container.image = `${image.newName ?? image.name}:${image.newTag}`;
    }
  }
  return objects;
}

async function schemaErrors(object: Any): Promise<string | undefined> {
  const module =
    object.apiVersion === 'keda.sh/v1alpha1'
      ? await import(/* @vite-ignore */ `@kubernetes-models/keda/keda.sh/v1alpha1/${object.kind}`)
      : await import(/* @vite-ignore */ `kubernetes-models/${object.apiVersion}/${object.kind}`);
  const Model = module[object.kind] ?? module.default;
  try {
    new Model(object).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const objects = await render(BASE);
const find = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind}/${name}`).toBeDefined();
  return found;
};
const container = (deployment: Any) => deployment.spec.template.spec.containers[0];
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes/base (kustomize)', () => {
  it('renders the expected objects', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/enclave-config',
        'Deployment/enclave-server',
        'Deployment/enclave-worker',
        'HorizontalPodAutoscaler/enclave-server',
        'Ingress/enclave',
        'Job/enclave-migrate',
        'PersistentVolumeClaim/enclave-files',
        'PodDisruptionBudget/enclave-server',
        'PodDisruptionBudget/enclave-worker',
        'ScaledObject/enclave-worker',
        'Secret/enclave-secrets',
        'Service/enclave-server',
        'ServiceAccount/enclave',
      ].sort(),
    );
    for (const o of objects) expect(o.metadata.labels['app.kubernetes.io/part-of'], o.metadata.name).toBe('enclave');
  });

  it('every object validates against the Kubernetes (and KEDA) JSON schemas', async () => {
    const failures: string[] = [];
    for (const object of objects) {
      const error = await schemaErrors(object);
      if (error) failures.push(`${object.kind}/${object.metadata.name}: ${error}`);
    }
    expect(failures).toEqual([]);
    // The validator does reject a broken object (so the check above means something).
    const broken = structuredClone(find('Deployment', 'enclave-server'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'three thousand';
    expect(await schemaErrors(broken)).toMatch(/containerPort/);
  });

  it('gives each role its command, the image, the configuration and matching probes and ports', () => {
    const config = find('ConfigMap', 'enclave-config').data;
    const port = Number(config.PORT);
    const server = find('Deployment', 'enclave-server');
    const worker = find('Deployment', 'enclave-worker');
    const migrate = find('Job', 'enclave-migrate');
    expect(container(server).args).toEqual(['server/src/main.ts', 'server']);
    expect(container(worker).args).toEqual(['workers/src/main.ts']);
    expect(migrate.spec.template.spec.containers[0].args).toEqual(['server/src/cli/migrate.ts']);
    for (const c of [container(server), container(worker), migrate.spec.template.spec.containers[0]]) {
      expect(c.image).toBe('registry.example.internal/enclave:0.1.0');
      expect(c.envFrom).toEqual([
        { configMapRef: { name: 'enclave-config' } },
        { secretRef: { name: 'enclave-secrets' } },
      ]);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    }
    expect(container(server).ports).toEqual([{ name: 'http', containerPort: port }]);
    expect(container(server).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container(server).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // Stored files are shared: the same ReadWriteMany claim on servers and workers.
    const pvc = find('PersistentVolumeClaim', 'enclave-files');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
    for (const d of [server, worker]) {
      expect(d.spec.template.spec.volumes).toContainEqual({
        name: 'files',
        persistentVolumeClaim: { claimName: 'enclave-files' },
      });
      expect(container(d).volumeMounts).toContainEqual({ name: 'files', mountPath: config.DATA_DIR });
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      // Grace period longer than the process's own shutdown deadline.
      expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        Number(config.SHUTDOWN_TIMEOUT_MS),
      );
    }
  });

  it('passes only variables Enclave reads (plus REDIS_ADDRESS for KEDA) and needs SESSION_SECRET in the Secret', () => {
    const known = new Set([...ENV_VARIABLES, 'REDIS_ADDRESS']);
    const config = find('ConfigMap', 'enclave-config').data;
    const secret = find('Secret', 'enclave-secrets').stringData;
    for (const name of [...Object.keys(config), ...Object.keys(secret)]) expect(known.has(name), name).toBe(true);
    expect(Object.keys(secret)).toEqual(expect.arrayContaining(['DATABASE_URL', 'SESSION_SECRET']));
    expect(config.NODE_ENV).toBe('production');
    expect(new URL(config.REDIS_URL).host).toBe(config.REDIS_ADDRESS);
  });

  it('routes the Ingress to the server Service, with WebSocket-friendly timeouts', () => {
    const service = find('Service', 'enclave-server');
    const server = find('Deployment', 'enclave-server');
    expect(matches(service.spec.selector, server.spec.template.metadata.labels)).toBe(true);
    expect(service.spec.ports[0].targetPort).toBe(container(server).ports[0].name);
    const ingress = find('Ingress', 'enclave');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend).toEqual({ name: service.metadata.name, port: { name: service.spec.ports[0].name } });
    expect(
      Number(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']),
    ).toBeGreaterThanOrEqual(3600);
    expect(
      Number(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']),
    ).toBeGreaterThanOrEqual(3600);
  });

  it('scales servers with an HPA and workers on queue depth with KEDA, with disruption budgets for both', () => {
    const hpa = find('HorizontalPodAutoscaler', 'enclave-server');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'enclave-server' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const scaled = find('ScaledObject', 'enclave-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe('enclave-worker');
    const prefix = find('ConfigMap', 'enclave-config').data.REDIS_PREFIX;
    const lists = scaled.spec.triggers.map((t: Any) => {
      expect(t.type).toBe('redis');
      expect(t.metadata.addressFromEnv).toBe('REDIS_ADDRESS');
      return t.metadata.listName;
    });
    // Every BullMQ queue (one per job name) has a trigger on its wait list.
    expect(lists.sort()).toEqual(
      Object.keys(jobOptions)
        .map((name) => `${prefix}:${name}:wait`)
        .sort(),
    );
    for (const name of ['enclave-server', 'enclave-worker']) {
      const pdb = find('PodDisruptionBudget', name);
      expect(matches(pdb.spec.selector.matchLabels, find('Deployment', name).spec.template.metadata.labels)).toBe(true);
    }
    expect(find('PodDisruptionBudget', 'enclave-server').spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('renders the same objects with `kubectl kustomize` when kubectl is installed', (ctx) => {
    // Not on every machine, CI's included (no Debian package of a current kubectl): the renderer above stands in.
    requires(ctx, [tool('kubectl', ['version', '--client'])], { inCi: 'optional' });
    const r = run('kubectl', ['kustomize', BASE]);
    expect(r.status, r.stderr).toBe(0);
    const theirs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    const key = (o: Any) => `${o.kind}/${o.metadata.name}`;
    expect(theirs.map(key).sort()).toEqual(objects.map(key).sort());
    for (const o of theirs) expect(o, key(o)).toEqual(objects.find((m) => key(m) === key(o)));
  });
});
