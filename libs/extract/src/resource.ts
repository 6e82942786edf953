import type { CompiledExport } from '@kollect/plan';
import { type Scrubber, setMember } from './redact.js';

/**
 * Full-resource export (`export.mode: Resource`, SEED-SPEC §4.4): a pruned, scrubbed copy of the
 * object stored as one attribute.
 */

/** Pointers removed when `prune.defaults` is set (RFC 6901, already split and unescaped). */
export const DEFAULT_PRUNE_POINTERS: readonly string[] = Object.freeze([
  '/metadata/managedFields',
  '/metadata/resourceVersion',
  '/metadata/generation',
  '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration',
  '/metadata/annotations/argocd.argoproj.io~1tracking-id',
]);

/** One path segment: a map key or an array index. */
export type PathSegment = string | number;

/**
 * Parse an RFC 6901 JSON pointer into its reference tokens. Returns undefined when the pointer
 * is not valid (it must start with `/`; `~` only as `~0` or `~1`). Tokens stay strings: whether
 * `0` is an index depends on the value met.
 */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  for (const t of tokens) if (/~(?![01])/.test(t)) return undefined;
  return tokens.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Parse the `prune.jsonPaths` subset: dotted fields, `["key"]` / `['key']` and `[n]`, with an
 * optional leading `$` and optional `{…}`. Returns undefined for anything else (wildcards,
 * filters, recursive descent, slices), which the seed accepts with a warning and ignores.
 */
export function parsePruneJsonPath(path: string): PathSegment[] | undefined {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p.startsWith('$')) p = p.slice(1);
  if (p !== '' && !p.startsWith('.') && !p.startsWith('[')) p = `.${p}`;
  const out: PathSegment[] = [];
  const re = /\.([^.[\]\s*?]+)|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*(\d+)\s*\]/y;
  let at = 0;
  while (at < p.length) {
    re.lastIndex = at;
    const m = re.exec(p);
    if (m === null) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(m[2].replace(/\\(.)/g, '$1'));
    else if (m[3] !== undefined) out.push(m[3].replace(/\\(.)/g, '$1'));
    else out.push(Number(m[4]));
    at = re.lastIndex;
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Remove the member a path points at. A map member is deleted; an array element is set to null
 * (the seed does not splice, so indexes of later elements stay stable). Missing paths are a no-op.
 */
export function removeAt(root: unknown, path: readonly PathSegment[]): void {
  if (path.length === 0) return;
  let cur: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    cur = child(cur, path[i] as PathSegment);
    if (cur === undefined) return;
  }
  const last = path[path.length - 1] as PathSegment;
  if (Array.isArray(cur)) {
    const idx = arrayIndex(last, cur.length);
    if (idx !== undefined) cur[idx] = null;
  } else if (cur !== null && typeof cur === 'object') {
    const key = String(last);
    if (Object.prototype.hasOwnProperty.call(cur, key)) delete (cur as Record<string, unknown>)[key];
  }
}

function child(cur: unknown, seg: PathSegment): unknown {
  if (Array.isArray(cur)) {
    const idx = arrayIndex(seg, cur.length);
    return idx === undefined ? undefined : cur[idx];
  }
  if (cur !== null && typeof cur === 'object') {
    const key = String(seg);
    return Object.prototype.hasOwnProperty.call(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return undefined;
}

function arrayIndex(seg: PathSegment, length: number): number | undefined {
  const n = typeof seg === 'number' ? seg : /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : undefined;
  return n !== undefined && n < length ? n : undefined;
}

/** Deep copy of JSON data (keys named `__proto__` stay data). */
export function deepCopyJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(deepCopyJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) setMember(out, key, deepCopyJson((v as Record<string, unknown>)[key]));
  return out;
}

const SECTIONS: Record<CompiledExport['include'], readonly string[] | 'all'> = {
  MetadataOnly: ['metadata'],
  SpecOnly: ['spec'],
  StatusOnly: ['status'],
  SpecAndStatus: ['spec', 'status'],
  All: 'all',
};

/** A Resource export with its pointers and paths parsed once per profile. */
export interface CompiledResourceExport {
  readonly spec: CompiledExport;
  /** Default pointers (when `prune.defaults`), then the author's `jsonPointers`. */
  readonly pointers: readonly (readonly string[])[];
  readonly jsonPaths: readonly (readonly PathSegment[])[];
  readonly scrubber: Scrubber;
  /** Pointers and paths that were skipped, with why. */
  readonly warnings: readonly string[];
}

/** Parse the export's pointers and paths; invalid or unsupported ones become warnings. */
export function compileResourceExport(spec: CompiledExport, scrubber: Scrubber): CompiledResourceExport {
  const warnings: string[] = [];
  const pointers: string[][] = [];
  for (const p of [...(spec.prune.defaults ? DEFAULT_PRUNE_POINTERS : []), ...spec.prune.jsonPointers]) {
    const tokens = parseJsonPointer(p);
    if (tokens === undefined)
      warnings.push(`prune.jsonPointers: ${JSON.stringify(p)} is not an RFC 6901 pointer; ignored`);
    else pointers.push(tokens);
  }
  const jsonPaths: PathSegment[][] = [];
  for (const p of spec.prune.jsonPaths) {
    const segs = parsePruneJsonPath(p);
    if (segs === undefined) {
      warnings.push(
        `prune.jsonPaths: ${JSON.stringify(p)} uses more than dotted fields, ["key"] and [n] (wildcards and filters are not supported); ignored`,
      );
    } else {
      jsonPaths.push(segs);
    }
  }
  return { spec, pointers, jsonPaths, scrubber, warnings };
}

/**
 * The pruned copy of an object: keep `apiVersion`, `kind` and the `include` sections, strip
 * identity (`dedupeIdentity`), remove default and author pointers, then the author's paths, then
 * redact with the merged scrub keys. The input is not modified.
 */
export function exportResource(object: Record<string, unknown>, x: CompiledResourceExport): unknown {
  const sections = SECTIONS[x.spec.include];
  let copy: Record<string, unknown>;
  if (sections === 'all') {
    copy = deepCopyJson(object) as Record<string, unknown>;
  } else {
    copy = {};
    for (const key of ['apiVersion', 'kind', ...sections]) {
      if (Object.prototype.hasOwnProperty.call(object, key)) setMember(copy, key, deepCopyJson(object[key]));
    }
  }
  if (x.spec.dedupeIdentity) {
    for (const key of ['name', 'namespace', 'uid']) removeAt(copy, ['metadata', key]);
  }
  for (const p of x.pointers) removeAt(copy, p);
  for (const p of x.jsonPaths) removeAt(copy, p);
  return x.scrubber.scrub(copy);
}
