/**
 * @packageDocumentation
 * The `git` snapshot sink (SEED-SPEC §5.4): every export of an inventory becomes one commit
 * (none when nothing changed), built with git plumbing in a persistent bare mirror, carrying the
 * trailers `Kollect-Export-Generation` and `Kollect-Checksum` from which the sink recovers its
 * position. Auth: token, basic, SSH key with known_hosts; custom CA.
 */
import { GitSink, gitPreview } from '@kollect/git';
import type { CompiledSink } from '@kollect/plan';
import type { SinkContext, SinkFactory, SinkPreview } from '@kollect/sink';

export const gitSinkFactory: SinkFactory = {
  type: 'git',
  family: 'snapshot',
  capabilities: {
    kind: 'snapshot-store',
    formats: ['yaml', 'json', 'ndjson'],
    incremental: true,
    diffNeedsBase: true,
  },
  create(ctx: SinkContext): GitSink {
    return new GitSink(ctx);
  },
  preview(sink: CompiledSink, cluster: string): SinkPreview {
    return gitPreview(sink, cluster);
  },
};

export { GitSink };
