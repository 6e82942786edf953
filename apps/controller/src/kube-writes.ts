import { randomBytes } from 'node:crypto';
import { API_VERSION, GROUP, KIND_DEFINITIONS, VERSION, type KollectKind } from '@kollect/crd-types';
import { microTime, objectPath, type KubeClient, type KubeObject } from '@kollect/kube';
import type { StatusEvent } from '@kollect/plan';

/** The GVR of a Kollect kind. */
export function kollectGvr(kind: KollectKind): { group: string; version: string; resource: string } {
  return { group: GROUP, version: VERSION, resource: KIND_DEFINITIONS[kind].plural };
}

function pathOf(kind: KollectKind, obj: KubeObject): string {
  const ns = KIND_DEFINITIONS[kind].scope === 'Namespaced' ? obj.metadata?.namespace : undefined;
  return objectPath(kollectGvr(kind), obj.metadata?.name ?? '', ns);
}

/** Merge-patch the status subresource; returns the stored object. */
export async function patchStatus(
  client: KubeClient,
  kind: KollectKind,
  obj: KubeObject,
  patch: { status: Record<string, unknown> },
  signal?: AbortSignal,
): Promise<KubeObject> {
  return client.request<KubeObject>('PATCH', `${pathOf(kind, obj)}/status`, {
    body: patch,
    contentType: 'application/merge-patch+json',
    ...(signal ? { signal } : {}),
  });
}

/**
 * Replace `metadata.finalizers` with optimistic concurrency (the object's resourceVersion): a
 * concurrent edit makes the call fail with a conflict and the next sync retries on fresh data, so
 * another writer's finalizer is never lost.
 */
export async function setFinalizers(
  client: KubeClient,
  kind: KollectKind,
  obj: KubeObject,
  finalizers: string[],
  signal?: AbortSignal,
): Promise<KubeObject> {
  return client.request<KubeObject>('PATCH', pathOf(kind, obj), {
    body: { metadata: { finalizers, resourceVersion: obj.metadata?.resourceVersion } },
    contentType: 'application/merge-patch+json',
    ...(signal ? { signal } : {}),
  });
}

/**
 * Emit an events.k8s.io/v1 Event about a Kollect object. Cluster-scoped objects get their events
 * in `default`, as kubectl looks for them there.
 */
export async function emitEvent(
  client: KubeClient,
  kind: KollectKind,
  obj: KubeObject,
  event: StatusEvent,
  reportingInstance: string,
  signal?: AbortSignal,
): Promise<void> {
  const name = obj.metadata?.name ?? 'object';
  const ns = obj.metadata?.namespace || 'default';
  await client.request('POST', `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/events`, {
    body: {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: {
        name: `${name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`,
        namespace: ns,
      },
      eventTime: microTime(Date.now()),
      reportingController: 'kollect.dev/controller',
      reportingInstance: reportingInstance.slice(0, 128),
      action: 'Reconcile',
      reason: event.reason,
      note: event.note.slice(0, 1024),
      type: event.type,
      regarding: {
        apiVersion: API_VERSION,
        kind,
        name,
        ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
        uid: obj.metadata?.uid,
        resourceVersion: obj.metadata?.resourceVersion,
      },
    },
    ...(signal ? { signal } : {}),
  });
}
