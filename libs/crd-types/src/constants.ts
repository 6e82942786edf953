/** API group of every Kollect custom resource. */
export const GROUP = 'kollect.dev';
/** The single served and storage version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` value of every Kollect object. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** Annotations and labels with a fixed meaning (SEED-SPEC §3.1). */
export const ANNOTATIONS = {
  /** Profile may read `Secret.data` (and Helm `config`) when set to `"true"`. */
  allowSecretExtraction: 'kollect.dev/allow-secret-extraction',
  /** Profile may use `export.mode: Resource` on Secrets when set to `"true"`. */
  allowFullResourceExport: 'kollect.dev/allow-full-resource-export',
  /** One-shot connection probe on a sink when set to `"true"`. */
  testConnection: 'kollect.dev/test-connection',
  /** Render `status.preview` on a sink when set to `"true"`. */
  preview: 'kollect.dev/preview',
  /** Namespace-level watch opt-in/opt-out (`enabled` | `disabled`). */
  namespaceWatch: 'kollect.dev/namespace-watch',
} as const;

/** Labels with a fixed meaning. */
export const LABELS = {
  /** Namespace or resource watch opt-in/opt-out (`enabled` | `disabled`). */
  watch: 'kollect.dev/watch',
} as const;

/** Finalizers the controller places on reconciled kinds. */
export const FINALIZERS = {
  target: 'kollect.dev/target-cleanup',
  inventory: 'kollect.dev/inventory-cleanup',
  clusterTarget: 'kollect.dev/cluster-target-cleanup',
  clusterInventory: 'kollect.dev/cluster-inventory-cleanup',
} as const;

/** At most this many sink refs across the three family lists of one inventory. */
export const MAX_SINK_REFS = 20;
/** Default operator-wide cap for `maxExportBytes` (1.5 MiB, sized for etcd's object limit). */
export const DEFAULT_GLOBAL_MAX_EXPORT_BYTES = 1_572_864;
/** Upper bound of every export interval: 24 hours, in milliseconds. */
export const MAX_EXPORT_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** CRD default of `exportMinInterval` on inventories. */
export const DEFAULT_EXPORT_MIN_INTERVAL = '30s';
/** Largest inline `tls.caBundle`, in decoded bytes (64 KiB). */
export const MAX_CA_BUNDLE_BYTES = 64 * 1024;
/** At most this many labels on one profile metric. */
export const MAX_METRIC_LABELS = 5;
/** Default namespace in which cluster inventories resolve sink refs without a namespace. */
export const DEFAULT_SINK_NAMESPACE = 'kollect-system';
