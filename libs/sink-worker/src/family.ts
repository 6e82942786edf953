import type { SinkFamily } from '@kollect/contracts';
import type { SinkRegistry } from '@kollect/sink';

/**
 * What makes a sink worker the worker of one family (snapshot, database, event): its backends
 * and the names derived from the family. Everything else — consumers, Secrets, status reports,
 * probes, previews — is the same code for every family (ARCHITECTURE.md §2: one deployment per
 * family, scaled independently).
 */
export interface WorkerFamily {
  family: SinkFamily;
  /** Service name in logs, NATS connection names and the prober lease: `sink-<family>`. */
  service: string;
  /** The backends this worker serves; every factory must belong to `family`. */
  registry: SinkRegistry;
  /** The sink kind of the family (`KollectSnapshotSink`, …). */
  kind: string;
  /** Its resource (plural) in `kollect.dev/v1alpha1`. */
  resource: string;
  /** The `KollectConnectionTest.spec.sinkRef` field naming a sink of this family. */
  testRef: string;
}

/** The descriptor of a family's worker; fails fast when a backend of another family is registered. */
export function workerFamily(family: SinkFamily, registry: SinkRegistry): WorkerFamily {
  for (const t of registry.types()) {
    const f = registry.get(t).family;
    if (f !== family)
      throw new TypeError(`sink type ${JSON.stringify(t)} belongs to the ${f} family, not ${family}`);
  }
  const Family = family.charAt(0).toUpperCase() + family.slice(1);
  return {
    family,
    service: `sink-${family}`,
    registry,
    kind: `Kollect${Family}Sink`,
    resource: `kollect${family}sinks`,
    testRef: `${family}SinkRef`,
  };
}
