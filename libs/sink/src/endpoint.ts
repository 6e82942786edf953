import { checkEndpoint, type EndpointForm } from '@kollect/crd-types';
import type { CompiledSink } from '@kollect/plan';
import { SinkEndpointForbidden } from './errors.js';

/** Relaxations for test installs (the worker's `--allow-private-endpoints`). */
export interface EndpointGuardPolicy {
  /** Accept loopback and private addresses (the test bed runs everything on 127.0.0.1). */
  allowPrivateEndpoints?: boolean;
  /** Accept `file://` remotes (unit tests of the git sink). */
  allowFileEndpoints?: boolean;
}

/** The endpoint-like fields of a sink spec, per type, with the syntax each is written in. */
export function sinkEndpoints(sink: CompiledSink): { field: string; value: string; form: EndpointForm }[] {
  const out: { field: string; value: string; form: EndpointForm }[] = [];
  const spec = sink.spec;
  const form: EndpointForm =
    sink.type === 'git' || sink.type === 'gitlab'
      ? 'git'
      : sink.type === 's3' || sink.type === 'gcs'
        ? 'objectStore'
        : sink.type === 'kafka'
          ? 'broker'
          : 'url';
  if (typeof spec['endpoint'] === 'string' && spec['endpoint'] !== '')
    out.push({ field: 'spec.endpoint', value: spec['endpoint'], form });
  const block = spec[sink.type];
  if (typeof block === 'object' && block !== null) {
    const b = block as Record<string, unknown>;
    if (typeof b['url'] === 'string' && b['url'] !== '')
      out.push({ field: `spec.${sink.type}.url`, value: b['url'], form: 'url' });
    if (Array.isArray(b['brokers'])) {
      b['brokers'].forEach((v, i) => {
        if (typeof v === 'string')
          out.push({ field: `spec.${sink.type}.brokers[${i}]`, value: v, form: 'broker' });
      });
    }
  }
  return out;
}

/**
 * Run the SSRF guard of `@kollect/crd-types` (SEED-SPEC §3.8) at connect time: webhooks may be
 * off in team installs (SEED-SPEC §9.4), so the worker re-checks before any connection is made.
 */
export function guardEndpoints(sink: CompiledSink, policy: EndpointGuardPolicy = {}): void {
  const name = `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
  for (const ep of sinkEndpoints(sink)) {
    const why = checkEndpoint(ep.value, ep.form, policy);
    if (why !== undefined) throw SinkEndpointForbidden(name, `${ep.field}: ${why}`);
  }
}
