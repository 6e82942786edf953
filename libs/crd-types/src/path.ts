/**
 * Field paths in errors and admission results.
 *
 * Format: dotted property names with `[i]` array indexes, as Kubernetes prints them —
 * `spec.attributes[0].path`, `spec.kafka.brokers[2]`. A map key that is not a plain
 * identifier is written as a JSON string in brackets: `spec.options["api.token"]`,
 * `metadata.annotations["kollect.dev/allow-secret-extraction"]`.
 */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Render path segments in the documented format. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Append a CEL `fieldPath` (`.git`, `.serialization.format`, `['a.b']`) to a base path
 * in the documented format.
 */
export function appendFieldPath(base: readonly PathSegment[], fieldPath: string | undefined): PathSegment[] {
  const out = [...base];
  if (!fieldPath) return out;
  const re = /\.([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\['([^']*)'\]/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fieldPath)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}
