/**
 * The Kubernetes manifests in `deploy/`: every object parses, the configuration they mount is
 * one the daemon accepts, every Secret, ConfigMap, volume and Service they name exists in the
 * same file, and each variant is what its comment says — one replica on SQLite with a volume,
 * or three replicas sharing a Redis with an append-only file and no volume of their own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { validateConfigFile } from '../src/config.js';

const deploy = (name: string) => fileURLToPath(new URL(`../deploy/${name}`, import.meta.url));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: the manifests' own shapes, read field by field
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function load(name: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(deploy(name), 'utf8'));
  for (const doc of docs) expect(doc.errors, name).toEqual([]);
  return docs.map((d) => d.toJS() as K8sObject);
}

const find = (objects: K8sObject[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

/** The checks both variants pass; returns the daemon's Deployment and its configuration. */
function checkVariant(objects: K8sObject[]) {
  for (const o of objects) {
    expect(o.apiVersion, o.kind).toMatch(/^(v1|apps\/v1|policy\/v1)$/);
    expect(o.metadata.name, o.kind).toMatch(/^[a-z0-9-]+$/);
  }
  const [daemon] = find(objects, 'Deployment', 'jobwatch');
  if (!daemon) throw new Error('no jobwatch Deployment');
  const pod = daemon.spec.template.spec;
  const [container] = pod.containers;
  // Labels: the selector matches the pod, and the Service selects the same pods.
  expect(daemon.spec.template.metadata.labels).toMatchObject(daemon.spec.selector.matchLabels);
  const [service] = find(objects, 'Service', 'jobwatch');
  expect(daemon.spec.template.metadata.labels).toMatchObject(service?.spec.selector);
  // Hardening.
  expect(pod.securityContext.runAsNonRoot).toBe(true);
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(container.securityContext).toMatchObject({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  expect(container.livenessProbe.httpGet.path).toBe('/livez');
  expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  // The Secret and ConfigMap it names are in the file.
  for (const from of container.envFrom)
    expect(find(objects, 'Secret', from.secretRef.name), from.secretRef.name).toHaveLength(1);
  const volumes = new Map<
    string,
    { configMap?: { name: string }; persistentVolumeClaim?: { claimName: string } }
  >(pod.volumes.map((v: { name: string }) => [v.name, v]));
  for (const mount of container.volumeMounts)
    expect(volumes.has(mount.name), mount.name).toBe(true);
  // It runs `serve` with the configuration the ConfigMap mounts, and the daemon accepts it.
  const configPath = container.command.at(-1) as string;
  expect(container.command.slice(0, 3)).toEqual(['jobwatch', 'serve', '--config']);
  const mount = container.volumeMounts.find((m: { mountPath: string }) =>
    configPath.startsWith(`${m.mountPath}/`),
  );
  const configMapName = volumes.get(mount.name)?.configMap?.name as string;
  const [configMap] = find(objects, 'ConfigMap', configMapName);
  const file = configPath.slice(mount.mountPath.length + 1);
  const config = validateConfigFile(parseYaml(configMap?.data?.[file] ?? ''), file);
  // The port it listens on is the container's, which the Service targets.
  expect(config.listen).toBe(`0.0.0.0:${container.ports[0].containerPort}`);
  return { daemon, pod, container, config, volumes, secrets: find(objects, 'Secret') };
}

describe('deploy/kubernetes.yaml (one daemon on SQLite)', () => {
  const objects = load('kubernetes.yaml');

  it('runs one replica, recreated (never two on one database), with its data on a volume', () => {
    const { daemon, container, config, volumes } = checkVariant(objects);
    expect(daemon.spec.replicas).toBe(1);
    expect(daemon.spec.strategy.type).toBe('Recreate');
    const data = container.volumeMounts.find(
      (m: { mountPath: string }) => m.mountPath === config.dataDir,
    );
    const claim = volumes.get(data.name)?.persistentVolumeClaim?.claimName as string;
    expect(find(objects, 'PersistentVolumeClaim', claim)).toHaveLength(1);
    expect(config).not.toHaveProperty('cluster');
  });
});

describe('deploy/kubernetes-redis.yaml (three daemons sharing Redis)', () => {
  const objects = load('kubernetes-redis.yaml');

  it('runs three replicas with no state of their own, rolling, spread, with a disruption budget', () => {
    const { daemon, pod, config, volumes } = checkVariant(objects);
    expect(daemon.spec.replicas).toBe(3);
    expect(daemon.spec.strategy.type).toBe('RollingUpdate');
    expect([...volumes.values()].some((v) => v.persistentVolumeClaim)).toBe(false);
    expect(find(objects, 'PersistentVolumeClaim')).toEqual([]);
    expect(config).not.toHaveProperty('dataDir');
    expect(pod.topologySpreadConstraints[0].labelSelector.matchLabels).toEqual(
      daemon.spec.selector.matchLabels,
    );
    const [pdb] = find(objects, 'PodDisruptionBudget');
    expect(pdb?.spec.minAvailable).toBeLessThan(daemon.spec.replicas);
    expect(pdb?.spec.selector).toEqual(daemon.spec.selector);
    // Leases: the default period, written out; a graceful stop (which releases them) fits in the grace period.
    expect(config.cluster?.leasePeriod).toBe('15s');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10);
  });

  it('reaches the Redis it defines through a Service, with the URL in the Secret, not the ConfigMap', () => {
    const { secrets, config } = checkVariant(objects);
    expect(config).not.toHaveProperty('store');
    const url = new URL(secrets[0]?.stringData?.JOBWATCH_REDIS_URL ?? '');
    expect(url.protocol).toBe('redis:');
    const [service] = find(objects, 'Service', url.hostname);
    expect(service?.spec.ports[0].port).toBe(Number(url.port));
    const [redis] = find(objects, 'StatefulSet');
    expect(redis?.spec.replicas).toBe(1);
    expect(redis?.spec.template.metadata.labels).toMatchObject(service?.spec.selector);
    const container = redis?.spec.template.spec.containers[0];
    expect(container.ports[0].containerPort).toBe(Number(url.port));
    // An append-only file on a volume of its own: a restart of Redis loses nothing.
    const args: string[] = container.args;
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(args[args.indexOf('--dir') + 1]).toBe(container.volumeMounts[0].mountPath);
    expect(redis?.spec.volumeClaimTemplates[0].metadata.name).toBe(container.volumeMounts[0].name);
    expect(redis?.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });
});
