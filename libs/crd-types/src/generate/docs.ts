import { stringify } from 'yaml';
import { API_VERSION } from '../constants.js';
import { KINDS, KIND_DEFINITIONS, type KindDefinition } from '../kinds.js';
import { SAMPLES } from '../samples/index.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from '../schema/common.js';
import type { JsonSchemaNode } from '../schema/keywords.js';
import { anyOf, itemsOf, mapValueSchema, propertiesOf, requiredOf } from '../schema/walk.js';

/** One row of a field table. */
interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly defaultValue: string;
  readonly description: string;
  readonly validation: string;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string) => `\`${s}\``;

function typeName(node: JsonSchemaNode): string {
  const docType = node['x-kollect-doc-type'];
  if (typeof docType === 'string') return docType;
  if (anyOf(node)) return (anyOf(node) ?? []).map(typeName).join(' \\| ');
  const t = node['type'] as string | undefined;
  const format = node['format'] as string | undefined;
  if (t === 'array') {
    const items = itemsOf(node);
    return `[]${items ? typeName(items) : 'any'}`;
  }
  if (t === 'object') {
    const mv = mapValueSchema(node);
    if (mv && !propertiesOf(node)) return `map[string]${typeName(mv)}`;
    return 'object';
  }
  if (t === 'integer') return format === 'int32' ? 'int32' : 'int64';
  if (t === 'string' && format === 'byte') return 'bytes (base64)';
  if (t === 'string' && format === 'date-time') return 'timestamp';
  return t ?? 'any';
}

function validationOf(node: JsonSchemaNode, required: boolean): string {
  const parts: string[] = [];
  if (required) parts.push('**required**');
  const en = node['enum'] as string[] | undefined;
  if (en) parts.push(`one of ${en.map(code).join(', ')}`);
  const pattern = node['pattern'] as string | undefined;
  if (pattern === DNS1123_SUBDOMAIN) parts.push('DNS-1123 subdomain');
  else if (pattern === DNS1123_LABEL) parts.push('DNS-1123 label');
  else if (node['x-kollect-doc-type'] === 'duration') parts.push('Go duration, 0s–24h');
  else if (pattern) parts.push(`pattern ${code(pattern)}`);
  const minL = node['minLength'] as number | undefined;
  const maxL = node['maxLength'] as number | undefined;
  if (minL === 1 && maxL === undefined) parts.push('non-empty');
  else if (minL !== undefined || maxL !== undefined) {
    if (minL === 1) parts.push(`non-empty, at most ${maxL} chars`);
    else if (minL !== undefined && maxL !== undefined) parts.push(`${minL}–${maxL} chars`);
    else if (maxL !== undefined) parts.push(`at most ${maxL} chars`);
    else parts.push(`at least ${minL} chars`);
  }
  const min = node['minimum'] as number | undefined;
  const max = node['maximum'] as number | undefined;
  if (min !== undefined && max !== undefined) parts.push(`${min}–${max}`);
  else if (min !== undefined) parts.push(`≥ ${min}`);
  else if (max !== undefined) parts.push(`≤ ${max}`);
  const minI = node['minItems'] as number | undefined;
  const maxI = node['maxItems'] as number | undefined;
  if (minI !== undefined) parts.push(`at least ${minI} item${minI === 1 ? '' : 's'}`);
  if (maxI !== undefined) parts.push(`at most ${maxI} items`);
  const maxP = node['maxProperties'] as number | undefined;
  if (maxP !== undefined) parts.push(`at most ${maxP} entries`);
  const listType = node['x-kubernetes-list-type'];
  if (listType === 'set') parts.push('unique items');
  if (listType === 'map')
    parts.push(`unique ${(node['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`);
  for (const r of node['x-kubernetes-validations'] ?? []) {
    if (node['x-kollect-doc-type'] === 'duration') continue;
    parts.push(`rule: ${r.message}`);
  }
  for (const a of node['x-kollect-admission'] ?? []) parts.push(`admission: ${a}`);
  return parts.join('; ');
}

function rowsOf(node: JsonSchemaNode, path: string, required: boolean, rows: FieldRow[]): void {
  const def = node['default'];
  rows.push({
    path,
    type: typeName(node),
    defaultValue: def === undefined ? '' : code(JSON.stringify(def)),
    description: (node['description'] as string | undefined) ?? '',
    validation: validationOf(node, required),
  });
  const branches = anyOf(node);
  const objectBranch = branches?.find((b) => b['type'] === 'object');
  if (objectBranch) {
    rowsOfChildren(objectBranch, `${path}[]`, rows);
    return;
  }
  if (node['type'] === 'array') {
    const items = itemsOf(node);
    if (items) {
      const itemBranches = anyOf(items);
      const objectItem =
        itemBranches?.find((b) => b['type'] === 'object') ?? (items['type'] === 'object' ? items : undefined);
      if (objectItem) rowsOfChildren(objectItem, `${path}[]`, rows);
    }
    return;
  }
  rowsOfChildren(node, path, rows);
}

function rowsOfChildren(node: JsonSchemaNode, path: string, rows: FieldRow[]): void {
  const props = propertiesOf(node);
  if (!props) return;
  const req = new Set(requiredOf(node));
  for (const [name, child] of Object.entries(props)) rowsOf(child, `${path}.${name}`, req.has(name), rows);
}

function table(rows: readonly FieldRow[]): string {
  const lines = ['| Field | Type | Default | Description | Validation |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(
      `| ${code(r.path)} | ${cell(r.type)} | ${cell(r.defaultValue)} | ${cell(r.description)} | ${cell(r.validation)} |`,
    );
  }
  return lines.join('\n');
}

/** File name of a kind's reference page under `docs/reference/`. */
export function docFileName(def: KindDefinition): string {
  return `${def.kind.toLowerCase()}.md`;
}

/** The reference page of one kind. */
export function kindPage(def: KindDefinition): string {
  const specRows: FieldRow[] = [];
  rowsOf(def.spec as JsonSchemaNode, 'spec', true, specRows);
  const out: string[] = [
    '<!-- Generated by `npm run gen` from libs/crd-types. Do not edit by hand. -->',
    '',
    `# ${def.kind}`,
    '',
    def.description,
    '',
    '| | |',
    '| --- | --- |',
    `| API version | ${code(API_VERSION)} |`,
    `| Scope | ${def.scope} |`,
    `| Short names | ${def.shortNames.map(code).join(', ')} |`,
    `| Category | ${code('kollect')} (\`kubectl get kollect\`) |`,
    `| Reconciled | ${def.reconciled ? 'yes' : 'no (static; read by other controllers)'} |`,
    `| Status subresource | ${def.status ? 'yes' : 'no'} |`,
    '',
    '## Example',
    '',
    '```yaml',
    stringify(SAMPLES[def.kind], { lineWidth: 0 }).trimEnd(),
    '```',
    '',
    '## Spec',
    '',
    table(specRows),
    '',
  ];
  if (def.status) {
    const statusRows: FieldRow[] = [];
    rowsOf(def.status as JsonSchemaNode, 'status', false, statusRows);
    out.push('## Status', '', table(statusRows), '');
  }
  out.push(
    '## Printer columns',
    '',
    '| Column | Type | JSONPath | Description |',
    '| --- | --- | --- | --- |',
  );
  for (const c of def.printerColumns) {
    out.push(
      `| ${c.name}${c.priority ? ' (wide)' : ''} | ${c.type} | ${code(cell(c.jsonPath))} | ${cell(c.description)} |`,
    );
  }
  out.push('');
  return out.join('\n');
}

/** The index page of the reference. */
export function indexPage(): string {
  const out: string[] = [
    '<!-- Generated by `npm run gen` from libs/crd-types. Do not edit by hand. -->',
    '',
    '# Custom resource reference',
    '',
    `All kinds belong to the API group \`kollect.dev\`, version \`v1alpha1\` (\`apiVersion: ${API_VERSION}\`), and to the category \`kollect\`, so \`kubectl get kollect -A\` lists them all.`,
    '',
    '| Kind | Scope | Short name | Role |',
    '| --- | --- | --- | --- |',
  ];
  for (const kind of KINDS) {
    const def = KIND_DEFINITIONS[kind];
    const role =
      def.description
        .replace(new RegExp(`^${kind} (is )?`), '')
        .split('. ')[0]
        ?.replace(/\.$/, '') ?? '';
    out.push(
      `| [${kind}](${docFileName(def)}) | ${def.scope} | ${code(def.shortNames[0] ?? '')} | ${cell(role.charAt(0).toUpperCase() + role.slice(1))} |`,
    );
  }
  out.push(
    '',
    '## Conventions',
    '',
    '- **Validation happens twice.** The CRD schema (types, enums, patterns, bounds and CEL rules) is enforced by the API server. Rules it cannot express are marked *admission* in the tables: the controller checks them on every reconcile (and a validating webhook, when installed, at admission). A violation shows on the object as a condition with a stable reason.',
    '- **Durations** use Go syntax: `30s`, `5m`, `1h`, `1m30s`, `0s`. Export intervals range from `0s` (export only on change) to `24h`.',
    '- **Sink ref lists** (`snapshotSinkRefs`, `databaseSinkRefs`, `eventSinkRefs`) accept plain names (`[audit-git]`) or objects (`[{name: audit-git, exportMinInterval: 1h}]`). Because a CRD schema cannot say "string or object", the API server keeps each entry as written; Kollect validates the entries itself and reads a string as `{name: <string>}`.',
    '- **Empty allow-lists** in scopes mean "no restriction", never "deny all".',
    '- **Field paths** in error messages are dotted with `[i]` indexes, e.g. `spec.attributes[0].path`; map keys that are not identifiers are quoted: `spec.options["api.token"]`.',
    '',
  );
  return out.join('\n');
}
