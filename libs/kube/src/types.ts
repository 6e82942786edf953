import type { Gvr } from '@kollect/contracts';

/** Group/version/kind. The core group is "". */
export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** A resource as discovery describes it. */
export interface ResolvedResource {
  gvr: Gvr;
  gvk: Gvk;
  namespaced: boolean;
  verbs: string[];
}

/** The metadata fields the engine reads; everything else passes through untouched. */
export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: unknown[];
  [key: string]: unknown;
}

/** Any Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
  [key: string]: unknown;
}

/** `v1` for the core group, `apps/v1` otherwise. */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Split an apiVersion into group and version (`v1` → core group ""). */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `group/version/Kind` for messages. */
export function gvkString(gvk: Gvk): string {
  return `${gvk.group === '' ? 'core' : gvk.group}/${gvk.version}/${gvk.kind}`;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(group: string, version: string): string {
  return group === ''
    ? `/api/${encodeURIComponent(version)}`
    : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
}

/**
 * Collection path of a GVR, cluster-wide (`namespace` undefined) or in one namespace. A
 * namespace must only be given for namespaced resources.
 */
export function collectionPath(gvr: Gvr, namespace?: string): string {
  const base = groupVersionPath(gvr.group, gvr.version);
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/${encodeURIComponent(gvr.resource)}`;
}

/** Path of one object. */
export function objectPath(gvr: Gvr, name: string, namespace?: string): string {
  return `${collectionPath(gvr, namespace)}/${encodeURIComponent(name)}`;
}
