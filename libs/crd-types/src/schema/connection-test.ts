import { Type, type Static } from '@sinclair/typebox';
import { Conditions, ObjectName } from './common.js';
import { cel } from './keywords.js';

export const ConnectionTestSinkRef = Type.Object(
  {
    snapshotSinkRef: Type.Optional(ObjectName('Name of a KollectSnapshotSink in this namespace.')),
    databaseSinkRef: Type.Optional(ObjectName('Name of a KollectDatabaseSink in this namespace.')),
    eventSinkRef: Type.Optional(ObjectName('Name of a KollectEventSink in this namespace.')),
  },
  {
    description: 'The sink to probe: exactly one of the three fields.',
    additionalProperties: false,
    ...cel({
      rule: '(has(self.snapshotSinkRef) ? 1 : 0) + (has(self.databaseSinkRef) ? 1 : 0) + (has(self.eventSinkRef) ? 1 : 0) == 1',
      message: 'set exactly one of snapshotSinkRef, databaseSinkRef or eventSinkRef',
    }),
  },
);
export type ConnectionTestSinkRef = Static<typeof ConnectionTestSinkRef>;

export const KollectConnectionTestSpec = Type.Object(
  {
    sinkRef: ConnectionTestSinkRef,
    profileRef: Type.Optional(ObjectName('Reserved: a KollectProfile for future composite probes.')),
    ownerSink: Type.Optional(
      Type.Boolean({
        description: 'Make the sink the controller owner of this test, so deleting the sink deletes it.',
        default: true,
      }),
    ),
    ttlSecondsAfterFinished: Type.Optional(
      Type.Integer({
        description:
          'Seconds to keep the test after it completed; then it is deleted. Any spec edit probes again and restarts the TTL.',
        minimum: 0,
        default: 300,
        format: 'int32',
      }),
    ),
  },
  { description: 'A one-shot, audited connectivity probe of one sink.', additionalProperties: false },
);
export type KollectConnectionTestSpec = Static<typeof KollectConnectionTestSpec>;

export const KollectConnectionTestStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'Generation that was probed.', minimum: 0, format: 'int64' }),
    ),
    latencyMs: Type.Optional(
      Type.Integer({ description: 'Duration of the probe in milliseconds.', minimum: 0, format: 'int64' }),
    ),
    completed: Type.Optional(Type.Boolean({ description: 'The probe finished (successfully or not).' })),
    completedAt: Type.Optional(
      Type.String({ description: 'When the probe finished; the TTL counts from here.', format: 'date-time' }),
    ),
  },
  {
    description: 'Probe outcome: `ConnectionVerified` and `Ready` conditions, latency and completion.',
    additionalProperties: false,
  },
);
export type KollectConnectionTestStatus = Static<typeof KollectConnectionTestStatus>;
