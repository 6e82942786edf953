import { DEFAULT_GLOBAL_MAX_EXPORT_BYTES, DEFAULT_SINK_NAMESPACE, MAX_SINK_REFS } from '../constants.js';
import type { KollectClusterInventory, KollectInventory } from '../kinds.js';
import { formatPath, type PathSegment } from '../path.js';
import type { InventorySinkRefListEntry } from '../schema/common.js';
import { SINK_FAMILIES, SINK_REF_FIELDS, type SinkFamily } from '../sink-refs.js';
import { intervalBelowFloor, sinkAllowed, staticRefNamespaceAllowed, type ScopeCeiling } from './scope.js';
import { issue, type AdmissionContext, type AdmissionIssue } from './types.js';

interface RefSpec {
  readonly snapshotSinkRefs?: readonly InventorySinkRefListEntry[] | undefined;
  readonly databaseSinkRefs?: readonly InventorySinkRefListEntry[] | undefined;
  readonly eventSinkRefs?: readonly InventorySinkRefListEntry[] | undefined;
  readonly exportMinInterval?: string | undefined;
  readonly sinkNamespace?: string | undefined;
}

interface RefRules {
  /** Namespaced inventories resolve every ref in their own namespace. */
  readonly namespaced: boolean;
  readonly cap: number;
  readonly scope: ScopeCeiling | undefined;
}

/**
 * Rules over the three sink ref lists: entry shape, duplicates, the 20-ref total, per-ref
 * namespace, byte cap, scope interval floor and scope family allow-lists.
 */
function checkSinkRefs(spec: RefSpec, rules: RefRules): AdmissionIssue[] {
  const out: AdmissionIssue[] = [];
  let total = 0;
  for (const family of SINK_FAMILIES) {
    const field = SINK_REF_FIELDS[family];
    const list = spec[field] ?? [];
    total += list.length;
    const seen = new Map<string, number>();
    list.forEach((entry, i) => {
      const base: PathSegment[] = ['spec', field, i];
      const ref = typeof entry === 'string' ? { name: entry } : entry;
      if (typeof ref !== 'object' || ref === null || typeof ref.name !== 'string' || ref.name === '') {
        out.push(
          issue(
            formatPath(base),
            'InvalidSinkRef',
            'each entry must be a sink name or an object with a name, e.g. audit-git or {name: audit-git, exportMinInterval: 1h}',
          ),
        );
        return;
      }
      const namePath = formatPath(typeof entry === 'string' ? base : [...base, 'name']);
      if (ref.name.includes('/')) {
        out.push(
          issue(
            namePath,
            'InvalidSinkRef',
            `"${ref.name}" must be a sink name, not namespace/name${rules.namespaced ? '' : '; set namespace separately'}`,
          ),
        );
      }
      const effectiveNs = rules.namespaced
        ? ''
        : (ref.namespace ?? spec.sinkNamespace ?? DEFAULT_SINK_NAMESPACE);
      const key = `${effectiveNs}/${ref.name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        out.push(
          issue(
            namePath,
            'DuplicateSinkRef',
            `sink "${ref.name}" is already bound at ${formatPath(['spec', field, first])}; remove the duplicate`,
          ),
        );
      } else {
        seen.set(key, i);
      }
      if (rules.namespaced && ref.namespace !== undefined) {
        out.push(
          issue(
            formatPath([...base, 'namespace']),
            'SinkRefNamespaceForbidden',
            'a KollectInventory binds sinks of its own namespace only; remove namespace (or use a KollectClusterInventory)',
          ),
        );
      }
      if (ref.maxExportBytes !== undefined && ref.maxExportBytes > rules.cap) {
        out.push(
          issue(
            formatPath([...base, 'maxExportBytes']),
            'MaxExportBytesExceeded',
            `${ref.maxExportBytes} exceeds the operator cap of ${rules.cap} bytes; lower it (larger exports are split into parts)`,
          ),
        );
      }
      const short = intervalBelowFloor(ref.exportMinInterval, rules.scope);
      if (short) out.push(issue(formatPath([...base, 'exportMinInterval']), 'ScopeIntervalTooShort', short));
      if (!sinkAllowed(rules.scope, family as SinkFamily, ref.name)) {
        out.push(
          issue(
            namePath,
            'ScopeSinkDenied',
            `sink "${ref.name}" is not in the scope's ${field} allow-list; bind an allowed sink or ask the platform team`,
          ),
        );
      }
    });
  }
  if (total > MAX_SINK_REFS) {
    out.push(
      issue(
        'spec',
        'TooManySinkRefs',
        `${total} sink refs in total; an inventory may bind at most ${MAX_SINK_REFS} across snapshotSinkRefs, databaseSinkRefs and eventSinkRefs — split it into several inventories`,
      ),
    );
  }
  const short = intervalBelowFloor(spec.exportMinInterval, rules.scope);
  if (short) out.push(issue('spec.exportMinInterval', 'ScopeIntervalTooShort', short));
  return out;
}

/** Admission rules of a KollectInventory (namespace KollectScope in `ctx.scope`). */
export function admitInventory(inv: KollectInventory, ctx: AdmissionContext = {}): AdmissionIssue[] {
  const cap = ctx.globalMaxExportBytes ?? DEFAULT_GLOBAL_MAX_EXPORT_BYTES;
  const out = checkSinkRefs(inv.spec, { namespaced: true, cap, scope: ctx.scope?.spec });
  const max = inv.spec.maxExportBytes;
  if (max !== undefined && max > cap) {
    out.push(
      issue(
        'spec.maxExportBytes',
        'MaxExportBytesExceeded',
        `${max} exceeds the operator cap of ${cap} bytes; lower it (larger exports are split into parts)`,
      ),
    );
  }
  return out;
}

/** Admission rules of a KollectClusterInventory (KollectClusterScope in `ctx.clusterScope`). */
export function admitClusterInventory(
  inv: KollectClusterInventory,
  ctx: AdmissionContext = {},
): AdmissionIssue[] {
  if (ctx.tenantMode) {
    return [
      issue(
        'kind',
        'TenantModeForbidden',
        'KollectClusterInventory is not available when the operator runs in tenant mode; use a namespaced KollectInventory',
      ),
    ];
  }
  const cap = ctx.globalMaxExportBytes ?? DEFAULT_GLOBAL_MAX_EXPORT_BYTES;
  const scope = ctx.clusterScope?.spec;
  const out = checkSinkRefs(inv.spec, { namespaced: false, cap, scope });
  const deniedNs = (ns: string) =>
    `namespace "${ns}" is not in the KollectClusterScope allowedStaticRefNamespaces; reference objects in an allowed namespace`;
  const profileNs = inv.spec.profileRef?.namespace;
  if (profileNs !== undefined && !staticRefNamespaceAllowed(scope, profileNs)) {
    out.push(issue('spec.profileRef.namespace', 'ScopeStaticRefDenied', deniedNs(profileNs)));
  }
  for (const family of SINK_FAMILIES) {
    const field = SINK_REF_FIELDS[family];
    (inv.spec[field] ?? []).forEach((entry, i) => {
      const explicit = typeof entry === 'object' && entry !== null ? entry.namespace : undefined;
      const ns = explicit ?? inv.spec.sinkNamespace ?? DEFAULT_SINK_NAMESPACE;
      if (!staticRefNamespaceAllowed(scope, ns)) {
        const at =
          explicit !== undefined
            ? formatPath(['spec', field, i, 'namespace'])
            : inv.spec.sinkNamespace !== undefined
              ? 'spec.sinkNamespace'
              : formatPath(['spec', field, i]);
        out.push(issue(at, 'ScopeStaticRefDenied', deniedNs(ns)));
      }
    });
  }
  return out;
}
