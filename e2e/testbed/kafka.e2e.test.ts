import { describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe('testbed: Kafka (KRaft broker)', () => {
  it('produces and consumes in a consumer group, committing offsets', async () => {
    requireTestbed('kafka');
    const kafka = new Kafka({
      clientId: 'testbed-smoke',
      brokers: testbedEnv.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = uniqueName('smoke');
    const groupId = uniqueName('group');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: JSON.stringify({ i }) })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push((JSON.parse(message.value!.toString()) as { i: number }).i);
          if (seen.length === 10) resolve();
        },
      });
    });
    await done;
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the group commits after each processed batch
    let committed = 0;
    for (const end = Date.now() + 15_000; committed < 10 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 200));
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      committed = offsets[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    }
    await consumer.disconnect();
    expect(committed).toBe(10);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });
});
