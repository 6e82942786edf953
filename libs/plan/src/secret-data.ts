import { ANNOTATIONS, pathReadsSecretData, type KollectProfile } from '@kollect/crd-types';
import type { Gvr } from '@kollect/contracts';

/**
 * Secret data on the bus (ARCHITECTURE invariant 1: "Secret data never enters the bus unless a
 * profile explicitly asks and scope allows"). The watcher strips `data`/`stringData` of core
 * Secrets unless the plan's watch of `secrets` says otherwise; the compiler says so only for the
 * namespaces of targets that are in the plan (their scope admitted them) and whose profile both
 * reads Secret data and carries the annotation that allows it.
 */

/** How a profile reads Secret payload, and whether it is allowed to. */
export interface SecretDataUse {
  /** What reads the payload, for messages: `attribute "x" (helm:release.name)`, `export.mode Resource (include All)`. */
  readers: string[];
  /** The profile carries every annotation its readers need. */
  permitted: boolean;
  /** Annotations the readers need but the profile lacks (empty when permitted). */
  missing: string[];
}

/** True for the core `secrets` resource. */
export function isSecretsGvr(gvr: Gvr): boolean {
  return gvr.group === '' && gvr.resource === 'secrets';
}

/**
 * Which parts of a (validated) profile read Secret payload when its objects are Secrets: any
 * attribute path with a `data` segment (JSONPath or CEL, as admission decides:
 * `pathReadsSecretData`), any `helm:` path (a Helm release is stored in `data.release`, whatever
 * field is read), and Resource export with `include: All` (the other sections drop `data`).
 * Attribute readers need `kollect.dev/allow-secret-extraction: "true"`; the Resource export needs
 * `kollect.dev/allow-full-resource-export: "true"`. Undefined when nothing reads the payload.
 *
 * Deliberate difference from orig: `helm:` paths other than `config` need the annotation too —
 * orig read the release from its in-process cache, here it would have to cross the bus.
 */
export function secretDataUse(profile: Pick<KollectProfile, 'metadata' | 'spec'>): SecretDataUse | undefined {
  const ann = profile.metadata?.annotations ?? {};
  const readers: string[] = [];
  const missing = new Set<string>();
  for (const a of profile.spec.attributes ?? []) {
    const p = a.path.trim();
    if (!p.startsWith('helm:') && !pathReadsSecretData(p)) continue;
    readers.push(`attribute "${a.name}" (${p})`);
    if (ann[ANNOTATIONS.allowSecretExtraction] !== 'true') missing.add(ANNOTATIONS.allowSecretExtraction);
  }
  const ex = profile.spec.export;
  if (ex?.mode === 'Resource' && (ex.include ?? 'SpecAndStatus') === 'All') {
    readers.push('export.mode Resource (include All)');
    if (ann[ANNOTATIONS.allowFullResourceExport] !== 'true') missing.add(ANNOTATIONS.allowFullResourceExport);
  }
  if (readers.length === 0) return undefined;
  return { readers, permitted: missing.size === 0, missing: [...missing].sort() };
}
