import { defineError, KollectError } from '@kollect/contracts';

/**
 * Errors of the bus library, declared once. Classes follow the contract's taxonomy: `transient`
 * errors are retried (NAK with delay, publish retry), everything else is not.
 */
export const BusConnectFailed = defineError(
  'KOLLECT_ERR_BUS_CONNECT',
  'transient',
  (servers: string, detail: string) =>
    `could not connect to NATS at ${servers}: ${detail}; check KOLLECT_NATS_URL and that the server is reachable`,
  'BusUnavailable',
);

export const ServerVersionTooOld = defineError(
  'KOLLECT_ERR_BUS_SERVER_VERSION',
  'terminal',
  (have: string, need: string, feature: string) =>
    `nats-server ${have} is too old: ${feature} needs nats-server >= ${need}; upgrade the NATS server`,
  'BusServerTooOld',
);

export const JetStreamUnavailable = defineError(
  'KOLLECT_ERR_BUS_NO_JETSTREAM',
  'terminal',
  (servers: string) =>
    `JetStream is not enabled on the NATS server at ${servers}; start nats-server with JetStream (-js)`,
  'BusUnavailable',
);

export const PayloadTooLarge = defineError(
  'KOLLECT_ERR_BUS_PAYLOAD_TOO_LARGE',
  'payload_too_large',
  (subject: string, bytes: number, limit: number) =>
    `message for ${subject} is ${bytes} bytes, over the server's max_payload of ${limit} bytes; raise max_payload on the NATS server or make the payload smaller`,
  'PayloadTooLarge',
);

export const PublishFailed = defineError(
  'KOLLECT_ERR_BUS_PUBLISH',
  'transient',
  (subject: string, attempts: number, detail: string) =>
    `publish to ${subject} failed after ${attempts} attempt(s): ${detail}`,
  'BusPublishFailed',
);

export const PublishRejected = defineError(
  'KOLLECT_ERR_BUS_PUBLISH_REJECTED',
  'terminal',
  (subject: string, detail: string) => `JetStream rejected the publish to ${subject}: ${detail}`,
  'BusPublishRejected',
);

export const FenceLost = defineError(
  'KOLLECT_ERR_BUS_FENCE_LOST',
  'terminal',
  (partition: number, fence: number) =>
    `write refused: partition ${partition} is no longer owned with fence ${fence} (another owner took over)`,
  'PartitionLost',
);

export const InvalidJsonMessage = defineError(
  'KOLLECT_ERR_BUS_INVALID_JSON',
  'terminal',
  (where: string, detail: string) => `message on ${where} is not valid JSON: ${detail}`,
  'InvalidMessage',
);

export const PlanSchemaMismatch = defineError(
  'KOLLECT_ERR_BUS_PLAN_SCHEMA',
  'terminal',
  (key: string, have: string, want: string) =>
    `plan at ${key} has schemaVersion ${JSON.stringify(have)}, this service understands ${JSON.stringify(want)}; run matching versions of the controller and this service`,
  'PlanSchemaMismatch',
);

export const InvalidPlan = defineError(
  'KOLLECT_ERR_BUS_PLAN_INVALID',
  'terminal',
  (key: string, detail: string) => `plan at ${key} is invalid: ${detail}`,
  'PlanInvalid',
);

export const TopologyConflict = defineError(
  'KOLLECT_ERR_BUS_TOPOLOGY',
  'terminal',
  (name: string, detail: string) =>
    `cannot create or update ${name}: ${detail}; fix the stream by hand or delete it if its data is disposable`,
  'BusTopologyConflict',
);

export const ConsumerSetupFailed = defineError(
  'KOLLECT_ERR_BUS_CONSUMER',
  'transient',
  (stream: string, durable: string, detail: string) =>
    `cannot create or bind consumer ${durable} on ${stream}: ${detail}`,
  'BusConsumerFailed',
);

/**
 * The durable exists with a configuration the server cannot change in place (ack policy, push vs
 * pull, or a change the server refuses to update). The runner does not recreate it on its own —
 * see `planConsumerBind` for why — and keeps retrying, so deleting the durable is enough to recover.
 */
export const ConsumerIncompatible = defineError(
  'KOLLECT_ERR_BUS_CONSUMER_INCOMPATIBLE',
  'terminal',
  (stream: string, durable: string, detail: string) =>
    `durable consumer ${durable} on ${stream} exists with settings that cannot be changed in place (${detail}); ` +
    `either run the previous settings again, or delete the durable (nats consumer rm ${stream} ${durable}) ` +
    `and it is recreated at once, starting from its deliver policy (messages acked before may be delivered again)`,
  'BusConsumerIncompatible',
);

/**
 * Throw from a consumer handler to say "this message can never succeed": the runner TERMs it at
 * once (no redelivery) and reports it as poison. Any {@link KollectError} whose class is not
 * `transient` has the same effect.
 */
export const PoisonMessage = defineError(
  'KOLLECT_ERR_BUS_POISON',
  'terminal',
  (detail: string) => `message cannot be processed: ${detail}`,
  'PoisonMessage',
);

/** True for an error the consumer runner should not retry. */
export function isTerminalForConsumer(err: unknown): boolean {
  return err instanceof KollectError && err.errorClass !== 'transient';
}
