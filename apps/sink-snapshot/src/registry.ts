import { SinkRegistry } from '@kollect/sink';
import { gcsSinkFactory } from '@kollect/sink-gcs';
import { gitSinkFactory } from '@kollect/sink-git';
import { gitlabSinkFactory } from '@kollect/sink-gitlab';
import { s3SinkFactory } from '@kollect/sink-s3';
import { workerFamily, type WorkerFamily } from '@kollect/sink-worker';

/** The backends this worker serves (the snapshot family). */
export function snapshotRegistry(): SinkRegistry {
  return new SinkRegistry()
    .register(gitSinkFactory)
    .register(gitlabSinkFactory)
    .register(s3SinkFactory)
    .register(gcsSinkFactory);
}

/** The snapshot family for `@kollect/sink-worker`. */
export function snapshotFamily(): WorkerFamily {
  return workerFamily('snapshot', snapshotRegistry());
}
