/**
 * The Kubernetes manifests: every overlay rendered (this repository's small kustomize, and
 * `kubectl kustomize` too where kubectl is installed, the two compared), every object validated
 * against the Kubernetes schemas and those of the CRDs it uses (kubernetes-models, offline), and
 * what ties the objects together checked: selectors, probes, grace period against
 * SHUTDOWN_TIMEOUT, secrets from the Secret, the autoscaler's target, the rules as shipped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

import { loadConfig } from '../../src/config.js';
import { parseDuration } from '../../src/lib/duration.js';
import { type K8sObject, kustomize, readObjects } from '../support/kustomize.js';

const ROOT = join(import.meta.dirname, '../..');
const K8S = join(ROOT, 'deploy/kubernetes');
const OVERLAYS = { production: 'customer-sync', staging: 'customer-sync-staging' } as const;

/** The schema of each kind the manifests may hold: anything else fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function validate(object: K8sObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object as never).validate();
}

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const byKindAndName = (a: K8sObject, b: K8sObject) =>
  `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  ports?: { name: string; containerPort: number }[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
}
const spec = <T>(o: K8sObject | undefined) => (o?.spec ?? {}) as T;
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name}`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.each(Object.entries(OVERLAYS))('the %s overlay', (overlay, namespace) => {
  const dir = join(K8S, 'overlays', overlay);
  const objects = kustomize(dir);

  it(`renders${kubectl ? ', the same as kubectl kustomize,' : ''} and every object validates against its schema`, () => {
    if (kubectl) {
      const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const theirs = parseAllDocuments(run.stdout).map((d) => d.toJS() as K8sObject);
      expect([...objects].sort(byKindAndName)).toEqual(theirs.sort(byKindAndName));
    }
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'Job',
      'Namespace',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'PrometheusRule',
      'ScaledObject',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    for (const object of objects) {
      expect(() => validate(object), `${object.kind}/${object.metadata.name}`).not.toThrow();
      if (object.kind !== 'Namespace') expect(object.metadata.namespace).toBe(namespace);
    }
  });

  it('runs workers and receivers (WORKER_CONCURRENCY=0) with probes, a grace period past SHUTDOWN_TIMEOUT, and secrets from the Secret', () => {
    const data = (find(objects, 'ConfigMap', 'customer-sync-config').data ?? {}) as Record<
      string,
      string
    >;
    const shutdownMs = parseDuration(data.SHUTDOWN_TIMEOUT ?? '30s') ?? NaN;
    // No secret in the ConfigMap: those come from the Secret.
    for (const key of Object.keys(data))
      expect(key).not.toMatch(/SECRET|TOKEN|PASSWORD|^DATABASE_URL$|^REDIS_URL$/);
    const secret = readObjects(join(K8S, 'secret.example.yaml'))[0] as K8sObject;
    const concurrency: Record<string, string | undefined> = {};
    for (const name of ['customer-sync-worker', 'customer-sync-receiver']) {
      const template = spec<{ template: PodTemplate }>(find(objects, 'Deployment', name)).template;
      const [container] = template.spec.containers;
      if (!container) throw new Error(`${name} has no container`);
      expect(container.image).toMatch(/^[^:]+\/customer-sync:[\w.-]+$/);
      expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'customer-sync-config' } },
        { secretRef: { name: 'customer-sync' } },
      ]);
      const preStopMs = Number(container.lifecycle?.preStop?.exec?.command[1] ?? 0) * 1000;
      expect((template.spec.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(
        shutdownMs + preStopMs,
      );
      expect(container.resources?.requests?.memory).toBeDefined();
      expect(container.resources?.limits?.memory).toBeDefined();
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
      concurrency[name] = env.WORKER_CONCURRENCY;
      // The daemon's own parser takes this environment (ConfigMap, Secret's keys, env).
      const config = loadConfig({
        ...data,
        ...(secret.stringData as Record<string, string>),
        ...env,
      });
      expect(config.shutdownTimeoutMs).toBe(shutdownMs);
    }
    expect(concurrency['customer-sync-receiver']).toBe('0');
    expect(Number(concurrency['customer-sync-worker'])).toBeGreaterThan(0);
    const job = spec<{ template: PodTemplate }>(find(objects, 'Job', 'customer-sync-migrate'));
    expect(job.template.spec.containers[0]?.command).toEqual([
      'node',
      'dist/cli/main.js',
      'migrate',
    ]);
    expect(job.template.spec.containers[0]?.envFrom).toContainEqual({
      secretRef: { name: 'customer-sync' },
    });
  });

  it('selects the right pods: the webhooks Service the receivers, the metrics Service and ServiceMonitor every daemon, each budget its Deployment', () => {
    const labelsOf = (name: string) =>
      spec<{ template: PodTemplate }>(find(objects, 'Deployment', name)).template.metadata.labels;
    const worker = labelsOf('customer-sync-worker');
    const receiver = labelsOf('customer-sync-receiver');
    const web = spec<{ selector: Record<string, string> }>(
      find(objects, 'Service', 'customer-sync'),
    );
    expect(matches(web.selector, receiver)).toBe(true);
    expect(matches(web.selector, worker)).toBe(false);
    const metrics = find(objects, 'Service', 'customer-sync-metrics');
    const metricsSpec = spec<{ selector: Record<string, string>; ports: { name: string }[] }>(
      metrics,
    );
    expect(matches(metricsSpec.selector, receiver) && matches(metricsSpec.selector, worker)).toBe(
      true,
    );
    const monitor = spec<{
      jobLabel: string;
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string }[];
    }>(find(objects, 'ServiceMonitor', 'customer-sync'));
    expect(matches(monitor.selector.matchLabels, metrics.metadata.labels ?? {})).toBe(true);
    expect(matches(monitor.selector.matchLabels, web.selector)).toBe(false);
    expect(monitor.endpoints[0]?.path).toBe('/metrics');
    expect(metricsSpec.ports.map((p) => p.name)).toContain(monitor.endpoints[0]?.port);
    // The rules and the dashboard expect job="customer-sync".
    expect(metrics.metadata.labels?.[monitor.jobLabel]).toBe('customer-sync');
    for (const [name, labels] of [
      ['customer-sync-worker', worker],
      ['customer-sync-receiver', receiver],
    ] as const) {
      const pdb = spec<{ selector: { matchLabels: Record<string, string> } }>(
        find(objects, 'PodDisruptionBudget', name),
      );
      expect(matches(pdb.selector.matchLabels, labels)).toBe(true);
    }
  });

  it('scales the workers on the sync jobs waiting in this namespace, never to zero', () => {
    const scaled = spec<{
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metadata: { query: string; threshold: string } }[];
    }>(find(objects, 'ScaledObject', 'customer-sync-worker'));
    find(objects, 'Deployment', scaled.scaleTargetRef.name);
    expect(scaled.scaleTargetRef.name).toBe('customer-sync-worker');
    expect(scaled.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.maxReplicaCount).toBeGreaterThanOrEqual(scaled.minReplicaCount);
    const [trigger] = scaled.triggers;
    expect(trigger?.type).toBe('prometheus');
    expect(trigger?.metadata.query).toContain('customer_sync_sync_jobs_waiting');
    expect(trigger?.metadata.query).toContain(`namespace="${namespace}"`);
    expect(Number(trigger?.metadata.threshold)).toBeGreaterThan(0);
  });

  it('ships the alerting rules promtool tests, unchanged', () => {
    const rules = parse(
      readFileSync(join(ROOT, 'deploy/prometheus/customer-sync.rules.yml'), 'utf8'),
    ) as unknown;
    expect(find(objects, 'PrometheusRule', 'customer-sync').spec).toEqual(rules);
  });
});

describe('the schema validation', () => {
  it('validates the example Secret', () => {
    for (const object of readObjects(join(K8S, 'secret.example.yaml'))) validate(object);
  });

  it('bites: a wrong type, a missing required field and an unknown kind each fail', () => {
    const [deployment] = kustomize(join(K8S, 'overlays/production')).filter(
      (o) => o.kind === 'Deployment',
    );
    if (!deployment) throw new Error('no Deployment');
    const wrongType = structuredClone(deployment);
    (wrongType.spec as { replicas: unknown }).replicas = 'two';
    expect(() => validate(wrongType)).toThrow(/replicas must be integer/);
    const missing = structuredClone(deployment);
    delete (missing.spec as { selector?: unknown }).selector;
    expect(() => validate(missing)).toThrow(/selector/);
    expect(() => validate({ ...deployment, kind: 'Deploymnet' })).toThrow(/no schema/);
    const scaled = structuredClone(
      kustomize(join(K8S, 'overlays/production')).find((o) => o.kind === 'ScaledObject'),
    ) as K8sObject;
    (scaled.spec as { triggers: unknown }).triggers = 'prometheus';
    expect(() => validate(scaled)).toThrow(/triggers/);
  });
});
