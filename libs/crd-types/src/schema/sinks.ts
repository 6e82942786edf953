import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';
import { Conditions, ExportInterval, ObjectName, SecretReference, TLSSpec } from './common.js';
import { admission, cel, type CelRule, StringEnum } from './keywords.js';

/** Placeholders allowed in a sink `pathTemplate` and `provisioning.naming.template`. */
export const PATH_TEMPLATE_PLACEHOLDERS = [
  'cluster',
  'namespace',
  'name',
  'generation',
  'extension',
] as const;
/** Placeholders allowed in `layout.pathTemplate` (per-resource files). */
export const LAYOUT_PATH_PLACEHOLDERS = [
  'cluster',
  'namespace',
  'name',
  'targetNamespace',
  'targetName',
  'sourceNamespace',
  'sourceName',
  'group',
  'kind',
  'uid',
  'generation',
  'extension',
] as const;

const onlyPlaceholders = (names: readonly string[]) => `^([^{}]|[{](${names.join('|')})[}])*$`;

const noTraversal: CelRule = {
  rule: "!self.contains('..') && !self.startsWith('/')",
  message: 'must be a relative path without ".." segments',
};

/** Rules for an inventory document path: relative, known placeholders, names the inventory. */
const documentTemplateRules = (field: string): CelRule[] => [
  noTraversal,
  {
    rule: `self.matches('${onlyPlaceholders(PATH_TEMPLATE_PLACEHOLDERS)}')`,
    message: `${field} may only use the placeholders ${PATH_TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
  },
  {
    rule: "self.contains('{namespace}') && self.contains('{name}')",
    message: `${field} must contain {namespace} and {name} so that inventories do not overwrite each other`,
  },
];

const DocumentPathTemplate = (field: string, description: string) =>
  Type.String({ description, minLength: 1, maxLength: 1024, ...cel(...documentTemplateRules(field)) });

export const SerializationSpec = Type.Object(
  {
    format: Type.Optional(
      StringEnum(['json', 'yaml', 'parquet', 'csv', 'ndjson'], {
        description:
          'On-wire format. Allowed per type: git/gitlab `json`, `yaml` (their default), `ndjson`; s3/gcs `json` (default), `parquet`, `csv`; database and event sinks `json` only. Takes precedence over `objectStore.format`.',
      }),
    ),
    compression: Type.Optional(
      StringEnum(['none', 'gzip', 'snappy', 'zstd'], {
        description:
          'Payload compression where the backend supports it. Reserved: validated, not applied yet.',
      }),
    ),
  },
  { description: 'Serialization of exported payloads.', additionalProperties: false },
);

export const ProvisioningSpec = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(['ensure', 'existing'], {
        description:
          '`ensure` creates the destination (table, stream, …) when missing, never destructively. `existing` runs no DDL or admin calls and only checks that the destination exists.',
        default: 'ensure',
      }),
    ),
    naming: Type.Optional(
      Type.Object(
        {
          template: Type.Optional(
            DocumentPathTemplate(
              'provisioning.naming.template',
              'Reserved: destination name template, validated like `pathTemplate`, not used yet.',
            ),
          ),
        },
        { description: 'Reserved destination naming.', additionalProperties: false },
      ),
    ),
  },
  { description: 'Who creates the destination resources.', additionalProperties: false },
);

export const LayoutSpec = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(['document', 'perResource', 'split'], {
        description:
          '`document`: one file per inventory (at `spec.pathTemplate`). `perResource`: one file per row. `split`: per-row files plus an index file. Unset means `document`, or `perResource` when the rows carry whole objects (Resource export).',
      }),
    ),
    content: Type.Optional(
      StringEnum(['item', 'attributes', 'manifest'], {
        description:
          'Per-file payload: the whole Item row, only its attributes, or the embedded Kubernetes object (needs a Resource-mode profile). Unset means `item`, or `manifest` for inferred Resource export in a tree layout.',
      }),
    ),
    pathTemplate: Type.Optional(
      Type.String({
        description: `Per-row file path for \`perResource\`/\`split\`. Placeholders: ${LAYOUT_PATH_PLACEHOLDERS.map((p) => `\`{${p}}\``).join(', ')}. Must contain \`{sourceName}\`, \`{name}\` or \`{uid}\`. Default \`{cluster}/{sourceNamespace}/{kind}/{sourceName}{extension}\`.`,
        minLength: 1,
        maxLength: 1024,
        ...cel(
          noTraversal,
          {
            rule: `self.matches('${onlyPlaceholders(LAYOUT_PATH_PLACEHOLDERS)}')`,
            message: `layout.pathTemplate may only use the placeholders ${LAYOUT_PATH_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
          },
          {
            rule: "self.contains('{sourceName}') || self.contains('{name}') || self.contains('{uid}')",
            message:
              'layout.pathTemplate must contain {sourceName}, {name} or {uid} so that every row gets its own file',
          },
        ),
      }),
    ),
    index: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            Type.Boolean({ description: 'Write the index file. Default: on in `split` mode only.' }),
          ),
          pathTemplate: Type.Optional(
            DocumentPathTemplate(
              'layout.index.pathTemplate',
              'Path of the index file. Default `inventory/{namespace}/{name}{extension}`.',
            ),
          ),
        },
        {
          description: 'Index file listing every per-row path, with checksum and item count.',
          additionalProperties: false,
        },
      ),
    ),
    filename: Type.Optional(
      Type.Object(
        {
          groupInPath: Type.Optional(
            StringEnum(['auto', 'always', 'never'], {
              description:
                'How `{group}` renders: `auto` and `always` use the group and drop empty segments; `never` drops it.',
              default: 'auto',
            }),
          ),
          lowercaseKind: Type.Optional(Type.Boolean({ description: 'Lower-case `{kind}`.', default: true })),
          maxSegmentLength: Type.Optional(
            Type.Integer({
              description: 'Longest path segment after sanitising.',
              minimum: 1,
              maximum: 255,
              default: 63,
              format: 'int32',
            }),
          ),
        },
        {
          description: 'Sanitising of path segments (`/ \\ :` become `-`, dot runs become `-`).',
          additionalProperties: false,
        },
      ),
    ),
  },
  {
    description: 'File layout of git/gitlab exports. Only allowed on git and gitlab sinks.',
    additionalProperties: false,
  },
);

/** Fields every sink family shares. */
const commonSinkProperties = {
  endpoint: Type.Optional(
    Type.String({
      description:
        'Destination: a Git remote URL (`https://…`, `ssh://…`, `git@host:path`; a `#branch=x` fragment selects the branch), a bucket URI (`s3://bucket/prefix`, `https://host/bucket/prefix`, `bucket/prefix`) or a server URL.',
      maxLength: 2048,
      ...admission(
        'SSRF guard: rejects `file://`, `localhost`, `*.localhost`, cloud metadata hosts, and loopback, link-local, private (RFC 1918), CGNAT, benchmark and IPv6 loopback/link-local/ULA IP literals; cluster DNS names are allowed (the operator may relax this for test installs)',
      ),
    }),
  ),
  secretRef: Type.Optional(SecretReference),
  tls: Type.Optional(TLSSpec),
  connectionTest: Type.Optional(
    Type.Boolean({
      description:
        'Probe the sink on every create/update and report `ConnectionVerified`. The annotation `kollect.dev/test-connection: "true"` triggers a one-shot probe instead.',
      default: true,
    }),
  ),
  cluster: Type.Optional(
    Type.String({
      description:
        'Fleet partition label written with every export (Git path `{cluster}`, database `cluster` column, event key prefix).',
      maxLength: 253,
    }),
  ),
  pathTemplate: Type.Optional(
    DocumentPathTemplate(
      'pathTemplate',
      'Path of the inventory document in Git or the object store. Placeholders: `{cluster}` `{namespace}` `{name}` `{generation}` `{extension}`; must contain `{namespace}` and `{name}`. Default `inventory/{namespace}/{name}{extension}`.',
    ),
  ),
  exportMinInterval: Type.Optional(
    ExportInterval(
      'Default interval for inventory refs to this sink that set none. At most 24h, and at least the scope `minExportInterval`.',
    ),
  ),
  serialization: Type.Optional(SerializationSpec),
  layout: Type.Optional(LayoutSpec),
  provisioning: Type.Optional(ProvisioningSpec),
  options: Type.Optional(
    Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
      description:
        'Non-secret backend pass-through settings. Keys that look like credentials (password, token, secret, api key, access key, private key, credential) are rejected: use `secretRef`.',
      maxProperties: 64,
      ...admission(
        'keys containing password, passwd, secret, token, apikey, api_key, accesskey, access_key, secretkey, secret_key, privatekey, private_key or credential(s) are rejected',
      ),
    }),
  ),
} satisfies TProperties;

/** CEL rules binding the type-specific block to `type`: exactly the matching block, siblings forbidden. */
function blockRules(blocks: Record<string, readonly string[]>, required: readonly string[]): CelRule[] {
  const rules: CelRule[] = [];
  for (const [block, types] of Object.entries(blocks)) {
    const list = `[${types.map((t) => `'${t}'`).join(', ')}]`;
    rules.push({
      rule: `!has(self.${block}) || self.type in ${list}`,
      message: `spec.${block} is only allowed when type is ${types.join(' or ')}; remove it or change type`,
      fieldPath: `.${block}`,
      reason: 'FieldValueForbidden',
    });
    if (required.includes(block)) {
      rules.push({
        rule: `!(self.type in ${list}) || has(self.${block})`,
        message: `spec.${block} is required when type is ${types.join(' or ')}${block === 'git' ? ' (an empty block `git: {}` is enough)' : ''}`,
        fieldPath: `.${block}`,
        reason: 'FieldValueRequired',
      });
    }
  }
  return rules;
}

const layoutOnlyOnGit: CelRule = {
  rule: "!has(self.layout) || self.type in ['git', 'gitlab']",
  message: 'spec.layout is only supported for git and gitlab sinks',
  fieldPath: '.layout',
  reason: 'FieldValueForbidden',
};

const jsonOnly: CelRule = {
  rule: "!has(self.serialization) || !has(self.serialization.format) || self.serialization.format == 'json'",
  message: 'serialization.format must be json for this sink family',
  fieldPath: '.serialization.format',
  reason: 'FieldValueInvalid',
};

export const SinkPreviewStatus = Type.Object(
  {
    renderedAt: Type.Optional(
      Type.String({ description: 'When the preview was computed.', format: 'date-time' }),
    ),
    inputSampleSource: Type.Optional(Type.String({ description: 'Sample input used (`synthetic`).' })),
    provisioningMode: Type.Optional(Type.String({ description: 'Effective provisioning mode.' })),
    serializationFormat: Type.Optional(Type.String({ description: 'Effective serialization format.' })),
    objectPath: Type.Optional(
      Type.String({
        description: 'Rendered document path or object key for inventory `team-a/api`, generation 1.',
      }),
    ),
    git: Type.Optional(
      Type.Object(
        {
          sampleCommitSubject: Type.Optional(Type.String({ description: 'Rendered commit subject.' })),
          sampleCommitBody: Type.Optional(Type.String({ description: 'Rendered commit body.' })),
        },
        { description: 'Commit preview (git/gitlab).', additionalProperties: false },
      ),
    ),
    layout: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(Type.String({ description: 'Resolved layout mode.' })),
          content: Type.Optional(Type.String({ description: 'Resolved content shape.' })),
          prune: Type.Optional(Type.Boolean({ description: 'Whether stale files are removed.' })),
          samplePaths: Type.Optional(
            Type.Array(Type.String(), {
              description: 'Example paths.',
              maxItems: 32,
              'x-kubernetes-list-type': 'atomic',
            }),
          ),
        },
        { description: 'Layout preview (git/gitlab).', additionalProperties: false },
      ),
    ),
    postgres: Type.Optional(
      Type.Object(
        { expectedDDL: Type.Optional(Type.String({ description: 'DDL run in `ensure` mode.' })) },
        { description: 'Postgres preview.', additionalProperties: false },
      ),
    ),
    mongodb: Type.Optional(
      Type.Object(
        {
          expectedIndexKeys: Type.Optional(
            Type.Array(Type.String(), {
              description: 'Fields of the unique identity index.',
              maxItems: 16,
              'x-kubernetes-list-type': 'atomic',
            }),
          ),
        },
        { description: 'MongoDB preview.', additionalProperties: false },
      ),
    ),
    kafka: Type.Optional(
      Type.Object(
        { topic: Type.Optional(Type.String({ description: 'Destination topic.' })) },
        { description: 'Kafka preview.', additionalProperties: false },
      ),
    ),
    warnings: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Non-blocking implications.',
        maxItems: 32,
        'x-kubernetes-list-type': 'atomic',
      }),
    ),
  },
  {
    description:
      'Side-effect-free preview, filled while the annotation `kollect.dev/preview: "true"` is set.',
    additionalProperties: false,
  },
);

export const FamilySinkStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'Most recent generation observed.', minimum: 0, format: 'int64' }),
    ),
    preview: Type.Optional(SinkPreviewStatus),
  },
  {
    description: 'Probe results (`ConnectionVerified`, `Degraded`, `TLSInsecure`) and the optional preview.',
    additionalProperties: false,
  },
);
export type FamilySinkStatus = Static<typeof FamilySinkStatus>;

// ---- snapshot family --------------------------------------------------------------------------

const GitRef = (description: string) =>
  Type.String({
    description,
    minLength: 1,
    maxLength: 255,
    pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$',
    ...cel({
      rule: "!self.contains('..') && !self.contains('//') && !self.endsWith('.lock') && !self.endsWith('.') && !self.endsWith('/') && !self.startsWith('refs/')",
      message:
        'must be a short branch name: no "..", "//", "refs/" prefix, trailing "/" or ".", or ".lock" suffix',
    }),
  });

export const GitSpec = Type.Object(
  {
    branch: Type.Optional(
      GitRef(
        'Branch to clone and push. Overrides a `#branch=` fragment of the endpoint. Default: the remote default branch.',
      ),
    ),
    pushPolicy: Type.Optional(
      StringEnum(['Commit', 'ForcePush'], {
        description:
          '`Commit` appends commits and fast-forwards (retrying once after a fetch/rebase). `ForcePush` overwrites the branch history (warned at admission).',
        default: 'Commit',
      }),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(
            StringEnum(['token', 'ssh'], { description: 'HTTPS token/basic auth or SSH private key.' }),
          ),
          secretRef: Type.Optional(SecretReference),
        },
        {
          description:
            'Credential mode; `secretRef` here overrides `spec.secretRef`. Keys: `token` or `username`/`password`, `ssh-privatekey`, `known_hosts`.',
          additionalProperties: false,
        },
      ),
    ),
    commitMessage: Type.Optional(
      Type.String({
        description:
          'Commit subject template. Placeholders: `{namespace} {name} {cluster} {generation} {exportGeneration} {itemCount} {checksum} {checksumShort} {exportedAt} {sink} {path}`. Default `chore({cluster}/{namespace}/{name}): export {itemCount} items @ {checksumShort}`.',
        maxLength: 1024,
      }),
    ),
    commitBody: Type.Optional(
      Type.String({ description: 'Commit body template (same placeholders).', maxLength: 16384 }),
    ),
    commitTrailers: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024 }), {
        description:
          'Extra trailers such as `Reviewed-by: {sink}` (same placeholders). `Kollect-Export-Generation` and `Kollect-Checksum` are always added.',
        maxItems: 16,
        'x-kubernetes-list-type': 'atomic',
      }),
    ),
    author: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(
            Type.String({
              description: 'Author and committer name.',
              default: 'kollect',
              minLength: 1,
              maxLength: 256,
            }),
          ),
          email: Type.Optional(
            Type.String({
              description: 'Author and committer email.',
              default: 'kollect@kollect.dev',
              minLength: 1,
              maxLength: 256,
            }),
          ),
        },
        { description: 'Commit identity.', additionalProperties: false },
      ),
    ),
    cloneDepth: Type.Optional(
      Type.Integer({ description: 'Shallow clone depth.', minimum: 1, default: 1, format: 'int32' }),
    ),
    prune: Type.Optional(
      Type.Boolean({
        description: 'Delete files not written this round (always on for `perResource`/`split` layouts).',
      }),
    ),
    engine: Type.Optional(
      StringEnum(['go-git', 'cli'], {
        description:
          'Kept for compatibility with the original operator; Kollect always writes with git plumbing.',
        default: 'go-git',
      }),
    ),
    forceBasicAuth: Type.Optional(
      Type.Boolean({
        description:
          'Send an explicit HTTP basic `Authorization` header for hosts that ignore URL credentials.',
      }),
    ),
  },
  { description: 'Git settings. Required (may be empty) when `type: git`.', additionalProperties: false },
);

export const GitLabSpec = Type.Object(
  {
    mergeRequest: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(
            StringEnum(['direct', 'merge_request'], {
              description:
                '`direct` pushes to the branch; `merge_request` pushes a stable feature branch per inventory and opens a merge request.',
            }),
          ),
          targetBranch: Type.Optional(
            GitRef('Merge request target branch. Required when `mode: merge_request`.'),
          ),
          branchPrefix: Type.Optional(
            Type.String({
              description: 'Prefix of the feature branch `<prefix>/<namespace>/<name>`.',
              default: 'kollect',
              minLength: 1,
              maxLength: 128,
            }),
          ),
          titleTemplate: Type.Optional(
            Type.String({
              description:
                'Merge request title; placeholders `{namespace}` `{name}`. Default `kollect inventory export: {namespace}/{name}`.',
              maxLength: 512,
            }),
          ),
          autoMerge: Type.Optional(Type.Boolean({ description: 'Reserved: not implemented.' })),
        },
        {
          description: 'Merge request workflow (token needs scopes `api` and `write_repository`).',
          additionalProperties: false,
          ...cel({
            rule: "!has(self.mode) || self.mode != 'merge_request' || has(self.targetBranch)",
            message: 'targetBranch is required when mode is merge_request',
            fieldPath: '.targetBranch',
            reason: 'FieldValueRequired',
          }),
        },
      ),
    ),
  },
  { description: 'GitLab settings. Only when `type: gitlab`.', additionalProperties: false },
);

export const ObjectStoreSpec = Type.Object(
  {
    format: Type.Optional(
      StringEnum(['json', 'parquet'], {
        description: 'Object format; `serialization.format` takes precedence.',
      }),
    ),
    hotAttributes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
        description: 'Attributes promoted to typed Parquet columns `attr_<name>`.',
        default: ['image', 'version'],
        maxItems: 64,
        'x-kubernetes-list-type': 'set',
      }),
    ),
  },
  { description: 'S3/GCS settings. Only when `type` is `s3` or `gcs`.', additionalProperties: false },
);

export const KollectSnapshotSinkSpec = Type.Object(
  {
    type: StringEnum(['git', 'gitlab', 's3', 'gcs'], {
      description: 'Backend: `git`, `gitlab`, `s3` or `gcs`.',
    }),
    ...commonSinkProperties,
    git: Type.Optional(GitSpec),
    gitlab: Type.Optional(GitLabSpec),
    objectStore: Type.Optional(ObjectStoreSpec),
  },
  {
    description: 'A snapshot store: Git history or object-storage documents.',
    additionalProperties: false,
    ...cel(
      ...blockRules({ git: ['git'], gitlab: ['gitlab'], objectStore: ['s3', 'gcs'] }, ['git']),
      layoutOnlyOnGit,
      {
        rule: "!has(self.serialization) || !has(self.serialization.format) || (self.type in ['git', 'gitlab'] ? self.serialization.format in ['json', 'yaml', 'ndjson'] : self.serialization.format in ['json', 'parquet', 'csv'])",
        message:
          'serialization.format is not supported by this type: git/gitlab take json, yaml or ndjson; s3/gcs take json, parquet or csv',
        fieldPath: '.serialization.format',
        reason: 'FieldValueInvalid',
      },
    ),
  },
);
export type KollectSnapshotSinkSpec = Static<typeof KollectSnapshotSinkSpec>;

// ---- database family --------------------------------------------------------------------------

const TableName = (description: string) => Type.String({ description, minLength: 1, maxLength: 253 });

export const PostgresSpec = Type.Object(
  {
    databaseRef: Type.Object(
      {
        name: ObjectName('Name of the Secret.'),
        namespace: Type.Optional(
          Type.String({
            description: 'Namespace of the Secret. Defaults to the sink namespace.',
            minLength: 1,
            maxLength: 63,
            pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          }),
        ),
      },
      {
        description:
          'Secret with the connection string under `dsn`, `url`, `connectionString` or `DATABASE_URL`.',
        additionalProperties: false,
      },
    ),
    table: TableName('Destination table.'),
    schema: Type.Optional(
      Type.String({ description: 'Schema of the table.', default: 'public', minLength: 1, maxLength: 63 }),
    ),
  },
  { description: 'PostgreSQL settings. Required when `type: postgres`.', additionalProperties: false },
);

export const MongoSpec = Type.Object(
  {
    databaseRef: Type.Object(
      {
        name: ObjectName('Name of the Secret.'),
        namespace: Type.Optional(
          Type.String({
            description: 'Namespace of the Secret. Defaults to the sink namespace.',
            minLength: 1,
            maxLength: 63,
            pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          }),
        ),
      },
      {
        description:
          'Secret with the connection URI under `uri`, `url`, `connectionString` or `MONGODB_URI`.',
        additionalProperties: false,
      },
    ),
    database: Type.String({ description: 'Destination database.', minLength: 1, maxLength: 64 }),
    collection: TableName('Destination collection.'),
  },
  { description: 'MongoDB settings. Required when `type: mongodb`.', additionalProperties: false },
);

export const BigQuerySpec = Type.Object(
  {
    project: Type.String({ description: 'GCP project that owns the dataset.', minLength: 1, maxLength: 128 }),
    dataset: Type.String({
      description: 'Dataset; it must exist (`ensure` creates only the table).',
      minLength: 1,
      maxLength: 1024,
    }),
    table: TableName('Destination table.'),
    location: Type.Optional(
      Type.String({ description: 'Job location, e.g. `EU`. Default: the dataset location.', maxLength: 64 }),
    ),
    secretRef: Type.Optional(SecretReference),
  },
  {
    description:
      'BigQuery settings (Beta). Required when `type: bigquery`. Without `secretRef` (key `credentials.json`), Application Default Credentials / Workload Identity are used.',
    additionalProperties: false,
  },
);

export const KollectDatabaseSinkSpec = Type.Object(
  {
    type: StringEnum(['postgres', 'mongodb', 'bigquery'], {
      description: 'Backend: `postgres`, `mongodb` or `bigquery`.',
    }),
    ...commonSinkProperties,
    postgres: Type.Optional(PostgresSpec),
    mongodb: Type.Optional(MongoSpec),
    bigquery: Type.Optional(BigQuerySpec),
  },
  {
    description: 'A database sink: one row per item, kept in sync (deleted rows are deleted).',
    additionalProperties: false,
    ...cel(
      ...blockRules({ postgres: ['postgres'], mongodb: ['mongodb'], bigquery: ['bigquery'] }, [
        'postgres',
        'mongodb',
        'bigquery',
      ]),
      layoutOnlyOnGit,
      jsonOnly,
    ),
  },
);
export type KollectDatabaseSinkSpec = Static<typeof KollectDatabaseSinkSpec>;

// ---- event family -----------------------------------------------------------------------------

const EventMode = StringEnum(['changes', 'snapshot'], {
  description:
    '`changes` sends one message per row change plus a `snapshot-complete` marker per export; `snapshot` sends one whole-envelope message per export (compatibility).',
  default: 'changes',
});

export const KafkaSpec = Type.Object(
  {
    brokers: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
      description: 'Bootstrap brokers as `host:port`.',
      minItems: 1,
      maxItems: 32,
      'x-kubernetes-list-type': 'atomic',
      ...admission('every broker host passes the SSRF guard'),
    }),
    topic: Type.String({
      description: 'Destination topic.',
      minLength: 1,
      maxLength: 249,
      pattern: '^[a-zA-Z0-9._-]+$',
    }),
    mode: Type.Optional(EventMode),
    secretRef: Type.Optional(SecretReference),
  },
  {
    description:
      'Kafka settings. Required when `type: kafka`. A `secretRef` with `username` and `password`/`token` enables SASL SCRAM-SHA-256.',
    additionalProperties: false,
  },
);

export const NatsSpec = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        description: 'Server URL such as `nats://nats.kollect-system:4222`. Default: `spec.endpoint`.',
        maxLength: 2048,
        ...admission('passes the SSRF guard'),
      }),
    ),
    subject: Type.String({
      description: 'Subject messages are published to.',
      minLength: 1,
      maxLength: 255,
      pattern: '^[^\\s*>]+$',
    }),
    stream: Type.Optional(
      Type.String({
        description: 'JetStream stream, created or updated on connect (dots become `_`).',
        default: 'kollect_events',
        minLength: 1,
        maxLength: 255,
      }),
    ),
    mode: Type.Optional(EventMode),
    secretRef: Type.Optional(SecretReference),
  },
  {
    description:
      'NATS JetStream settings. Required when `type: nats`. A `secretRef` holds `token` or `username`/`password`.',
    additionalProperties: false,
  },
);

export const KollectEventSinkSpec = Type.Object(
  {
    type: StringEnum(['kafka', 'nats'], { description: 'Backend: `kafka` or `nats`.' }),
    ...commonSinkProperties,
    kafka: Type.Optional(KafkaSpec),
    nats: Type.Optional(NatsSpec),
  },
  {
    description: 'An event stream sink.',
    additionalProperties: false,
    ...cel(...blockRules({ kafka: ['kafka'], nats: ['nats'] }, ['kafka', 'nats']), layoutOnlyOnGit, jsonOnly),
  },
);
export type KollectEventSinkSpec = Static<typeof KollectEventSinkSpec>;

/** Every sink spec schema, for code that treats the families alike. */
export const SINK_SPECS: Readonly<Record<'snapshot' | 'database' | 'event', TSchema>> = {
  snapshot: KollectSnapshotSinkSpec,
  database: KollectDatabaseSinkSpec,
  event: KollectEventSinkSpec,
};
