import { describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe('testbed: MongoDB wire protocol (FerretDB)', () => {
  it('inserts, updates and finds documents with the official driver', async () => {
    requireTestbed('mongo');
    const client = new MongoClient(testbedEnv.mongoUri, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    try {
      const db = client.db(uniqueName('smoke').replace(/-/g, '_'));
      const rows = db.collection<{ _id: string; gen: number; image: string }>('rows');
      await rows.insertMany([
        { _id: 'a', gen: 1, image: 'nginx:1' },
        { _id: 'b', gen: 1, image: 'redis:7' },
      ]);
      await rows.updateOne({ _id: 'a' }, { $set: { gen: 2, image: 'nginx:2' } }, { upsert: true });
      const docs = await rows.find({}).sort({ _id: 1 }).toArray();
      expect(docs).toEqual([
        { _id: 'a', gen: 2, image: 'nginx:2' },
        { _id: 'b', gen: 1, image: 'redis:7' },
      ]);
      await expect(rows.insertOne({ _id: 'a', gen: 3, image: 'x' })).rejects.toMatchObject({ code: 11000 });
      expect(await rows.countDocuments({ gen: { $gte: 1 } })).toBe(2);
      await db.dropDatabase();
    } finally {
      await client.close();
    }
  });
});
