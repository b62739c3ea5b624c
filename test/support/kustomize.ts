/**
 * A small kustomize, for rendering deploy/kubernetes/overlays/* in tests where no kustomize
 * binary is installed (Debian has no kubectl package). It builds the subset the manifests use and
 * refuses any other field, so a kustomization that outgrows it fails loudly rather than renders
 * wrong: `resources` (files and folders), `namespace`, `images`, `replicas`, and `patches` that are
 * inline JSON 6902 patches with a kind/name target. Where kubectl is installed the test also
 * compares this render with `kubectl kustomize`'s.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse, parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
};

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { target: { kind?: string; name?: string }; patch: string }[];
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'images',
  'replicas',
  'patches',
]);

/** Kinds whose `spec.replicas` kustomize's `replicas` field sets (a same-named PDB keeps none). */
const SCALABLE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

/** Kinds that live in no namespace (of those the manifests could hold). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

/** Reads YAML documents of a file, skipping empty ones. */
export function readObjects(path: string): K8sObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Builds the kustomization in `dir` (its kustomization.yaml) into a list of objects. */
export function kustomize(dir: string): K8sObject[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const unknown = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unknown.length > 0) {
    throw new Error(`${dir}: this test's kustomize does not build ${unknown.join(', ')}`);
  }
  const objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? kustomize(path) : readObjects(path)));
  }
  for (const { target, patch } of k.patches ?? []) {
    const ops = parse(patch) as JsonPatchOp[];
    if (!Array.isArray(ops)) throw new Error(`${dir}: only JSON 6902 patches are built here`);
    const matched = objects.filter(
      (o) =>
        (!target.kind || o.kind === target.kind) &&
        (!target.name || o.metadata.name === target.name),
    );
    if (matched.length === 0) throw new Error(`${dir}: a patch matches nothing`);
    for (const object of matched) for (const op of ops) applyOp(object, op);
  }
  for (const { name, count } of k.replicas ?? []) {
    for (const object of objects) {
      if (object.metadata.name === name && SCALABLE.has(object.kind)) {
        (object.spec as { replicas?: number }).replicas = count;
      }
    }
  }
  for (const image of k.images ?? []) for (const o of objects) retag(o, image);
  if (k.namespace) {
    for (const object of objects) {
      if (object.kind === 'Namespace') object.metadata.name = k.namespace;
      else if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
    }
  }
  return objects;
}

interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

function applyOp(object: K8sObject, { op, path, value }: JsonPatchOp): void {
  const keys = path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop();
  if (last === undefined) throw new Error(`bad patch path ${path}`);
  let parent: Record<string, unknown> | unknown[] = object;
  for (const key of keys) {
    const next: unknown = (parent as Record<string, unknown>)[key];
    if (next === null || typeof next !== 'object') {
      throw new Error(`${object.kind}/${object.metadata.name}: ${path} does not exist`);
    }
    parent = next as Record<string, unknown>;
  }
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (op === 'add') parent.splice(index, 0, value);
    else if (op === 'replace') parent[index] = value;
    else parent.splice(index, 1);
    return;
  }
  if (op !== 'add' && !(last in parent)) {
    throw new Error(`${object.kind}/${object.metadata.name}: ${path} does not exist`);
  }
  if (op === 'remove') delete parent[last];
  else parent[last] = value;
}

/** Kustomize's images transformer: a container image named `name` gets the new name and tag. */
function retag(
  object: K8sObject,
  image: { name: string; newName?: string; newTag?: string },
): void {
  const spec = object.spec as { template?: { spec?: PodSpec } } | undefined;
  const pod = spec?.template?.spec;
  if (!pod) return;
  for (const container of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    const [name, tag] = splitImage(container.image);
    if (name !== image.name) continue;
    container.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag}`;
  }
}

interface PodSpec {
  containers?: { image: string }[];
  initContainers?: { image: string }[];
}

function splitImage(image: string): [string, string] {
  const at = image.indexOf('@');
  if (at >= 0) return [image.slice(0, at), image.slice(at)];
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon)] : [image, ''];
}
