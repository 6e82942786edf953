import { SinkRegistry } from '@kollect/sink';
import { bigquerySinkFactory } from '@kollect/sink-bigquery';
import { mongodbSinkFactory } from '@kollect/sink-mongodb';
import { postgresSinkFactory } from '@kollect/sink-postgres';
import { workerFamily, type WorkerFamily } from '@kollect/sink-worker';

/** The backends this worker serves (the database family). */
export function databaseRegistry(): SinkRegistry {
  return new SinkRegistry()
    .register(postgresSinkFactory)
    .register(mongodbSinkFactory)
    .register(bigquerySinkFactory);
}

/** The database family for `@kollect/sink-worker`. */
export function databaseFamily(): WorkerFamily {
  return workerFamily('database', databaseRegistry());
}
