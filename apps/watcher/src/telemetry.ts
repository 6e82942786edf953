import { gvrString, type Gvr } from '@kollect/contracts';
import { WatchEvent } from '@kollect/kube';
import type { MirrorHooks, WatchScope } from '@kollect/mirror';
import type { KollectMetrics } from '@kollect/observability';

const labels = (gvr: Gvr) => ({ group: gvr.group, version: gvr.version, resource: gvr.resource });

/**
 * Map the mirrors' events onto the declared watcher metrics. Object counts are summed per GVR
 * across its namespace scopes (labels stay bounded: GVRs only).
 */
export function metricHooks(metrics: KollectMetrics, objectsStream: string): MirrorHooks {
  const counts = new Map<string, Map<string, number>>();
  return {
    onWatchEvent(scope, e) {
      const l = labels(scope.gvr);
      switch (e.type) {
        case WatchEvent.ADDED:
        case WatchEvent.MODIFIED:
        case WatchEvent.DELETED:
        case WatchEvent.BOOKMARK:
          metrics.watchEvents.inc({ ...l, type: e.type });
          break;
        case WatchEvent.OLD_RESOURCE_VERSION:
          metrics.watchEvents.inc({ ...l, type: 'ERROR' });
          metrics.watchRestarts.inc({ ...l, reason: 'gone' });
          break;
        case WatchEvent.LIST_START:
          metrics.watchRelists.inc(l);
          break;
        case WatchEvent.RECONNECT:
          metrics.watchRestarts.inc({ ...l, reason: 'timeout' });
          break;
        case WatchEvent.STALL:
          metrics.watchStallFires.inc(l);
          metrics.watchRestarts.inc({ ...l, reason: 'stall' });
          break;
        case WatchEvent.NETWORK_ERROR:
          metrics.watchRestarts.inc({ ...l, reason: 'closed' });
          break;
        case WatchEvent.WATCH_ERROR:
        case WatchEvent.LIST_ERROR:
        case WatchEvent.HANDLER_ERROR:
          metrics.watchRestarts.inc({ ...l, reason: 'error' });
          break;
        default:
          break;
      }
    },
    onState(scope, state) {
      metrics.watchSynced.set(labels(scope.gvr), state.state === 'synced' ? 1 : 0);
      metrics.informerClusterWide.set(labels(scope.gvr), scope.namespace === null ? 1 : 0);
    },
    onPublished(scope, op, result) {
      if (result === 'stored' || result === 'duplicate')
        metrics.objectsPublished.inc({ ...labels(scope.gvr), op });
      metrics.busPublished.inc({ stream: objectsStream, result });
    },
    onObjectCount(scope: WatchScope, count: number) {
      const g = gvrString(scope.gvr);
      let per = counts.get(g);
      if (!per) counts.set(g, (per = new Map()));
      per.set(scope.key, count);
      let sum = 0;
      for (const n of per.values()) sum += n;
      metrics.informerObjects.set(labels(scope.gvr), sum);
    },
  };
}
