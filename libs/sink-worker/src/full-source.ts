import { decodeSnapshotMessage, type FullSnapshotReply } from '@kollect/aggregate';
import { decodeJson, encodeJson, type Bus, type BusNames } from '@kollect/bus';
import {
  inventoryKey,
  subjects,
  type InventoryRef,
  type Item,
  type RowKey,
  type SnapshotMessage,
} from '@kollect/contracts';
import { FullSnapshotUnavailable, type FullSnapshot, type FullSnapshotSource } from '@kollect/sink';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Full snapshots from the aggregator over the bus: a request on
 * `kollect.ctl.full.<cluster>.<inventory>` answered by the partition owner with a `kind: full`
 * stub whose `objectRef` names the complete message in object store `kollect_full`. `NotReady`
 * and timeouts (a handover) are retried for up to `deadlineMs`, then reported as transient.
 */
export class BusFullSnapshotSource implements FullSnapshotSource {
  constructor(
    private readonly bus: Bus,
    private readonly names: BusNames,
    private readonly opts: { requestTimeoutMs?: number; deadlineMs?: number } = {},
  ) {}

  async fetch(
    cluster: string,
    inventory: InventoryRef,
    atLeast: number,
    signal?: AbortSignal,
  ): Promise<FullSnapshot> {
    const subject = this.names.subject(subjects.fullSnapshotRequest(cluster, inventory));
    const deadline = Date.now() + (this.opts.deadlineMs ?? 60_000);
    let last = 'no answer';
    for (let attempt = 1; Date.now() < deadline && !signal?.aborted; attempt++) {
      let reply: FullSnapshotReply;
      try {
        const m = await this.bus.nc.request(subject, encodeJson({ atLeast }), {
          timeout: this.opts.requestTimeoutMs ?? 10_000,
        });
        reply = decodeJson<FullSnapshotReply>(m.data, 'full snapshot reply');
      } catch (err) {
        last = (err as Error).message;
        await sleep(Math.min(5000, 250 * 2 ** attempt));
        continue;
      }
      if (!reply.ok) {
        last = `${reply.reason}: ${reply.message}`;
        // Not in the aggregator's plan: a deleted inventory (nothing to write, ever) or one the
        // aggregator has not seen yet. Either way there is no snapshot: fail (transient) without
        // writing anything, and let redelivery ask again.
        if (reply.reason === 'NotFound') break;
        await sleep(reply.retryAfterMs ?? 1000);
        continue;
      }
      const msg = await this.resolve(reply.snapshot);
      if (msg.exportGeneration < atLeast) {
        last = `the aggregator is at generation ${msg.exportGeneration}, behind ${atLeast}`;
        await sleep(1000);
        continue;
      }
      // The final generation of a deleted inventory says so (in the stub and in the stored
      // message): the runner must not write it to a backend that keeps its history.
      const final = reply.snapshot.final ?? msg.final;
      return {
        inventory: msg.inventory,
        cluster: msg.cluster,
        generation: msg.generation,
        exportGeneration: msg.exportGeneration,
        checksum: msg.checksum,
        exportedAt: msg.exportedAt,
        items: msg.upserts,
        ...(final !== undefined ? { final } : {}),
      };
    }
    throw FullSnapshotUnavailable(inventoryKey(inventory), last);
  }

  async loadPayload(msg: SnapshotMessage): Promise<{ upserts: Item[]; deletes: RowKey[] }> {
    const full = await this.resolve(msg);
    return { upserts: full.upserts, deletes: full.deletes };
  }

  /** A message with `objectRef`: read the complete message from the object store. */
  private async resolve(msg: SnapshotMessage): Promise<SnapshotMessage> {
    if (!msg.objectRef) return msg;
    const store = await this.bus.objm.open(this.names.buckets.full);
    const data = await store.getBlob(msg.objectRef.name);
    if (!data) {
      throw FullSnapshotUnavailable(
        inventoryKey(msg.inventory),
        `object ${msg.objectRef.name} is gone from ${msg.objectRef.bucket}`,
      );
    }
    return decodeSnapshotMessage(data);
  }
}
