/**
 * @packageDocumentation
 * Kubernetes access for Kollect without an object cache: kube config and raw HTTP with the
 * config's auth over one keep-alive agent per cluster, discovery (GVK ⇄ GVR), paged LIST,
 * a list+watch engine (bookmarks, resume, 410 relist, stall watchdog, backoff, telemetry
 * events), object stripping, and Lease leader election. client-node's informer is deliberately
 * not used (O(n) per event, stops on TCP reset).
 */
export {
  KubeClient,
  loadKubeConfig,
  type KubeClientOptions,
  type KubeConfigSource,
  type Query,
  type RequestOptions,
  type OpenStream,
} from './client.js';
export { Discovery, type DiscoveryOptions } from './discovery.js';
export { listPages, type ListPage, type ListOptions } from './list.js';
export {
  ListWatch,
  WatchEvent,
  type WatchEventType,
  type ListWatchEvent,
  type ListWatchHandler,
  type ListWatchOptions,
  type ListWatchState,
  type ListWatchStats,
  type ListReason,
  type ObjectContext,
  type SyncInfo,
} from './list-watch.js';
export { LeaderElector, microTime, type LeaderElectorOptions, type LeaseSpec } from './lease.js';
export {
  stripObject,
  isCoreSecret,
  isSecretGvr,
  itemKindOfList,
  LAST_APPLIED_ANNOTATION,
  type StripOptions,
} from './strip.js';
export { LineSplitter } from './lines.js';
export { parseWatchLine, type WatchLineEvent } from './watch-event.js';
export { Backoff, jitterUp, sleep, type BackoffOptions } from './backoff.js';
export {
  GvkNotServed,
  KubeForbidden,
  KubeResourceExpired,
  KubeRequestRejected,
  KubeNotFound,
  KubeConflict,
  KubeUnavailable,
  WatchStalled,
  WatchLineTooLarge,
  WatchProtocolError,
  ListWatchHandlerFailed,
  httpStatusOf,
  isResourceExpired,
  kubeErrorFor,
  type KubeStatus,
} from './errors.js';
export {
  apiVersionOf,
  parseApiVersion,
  gvkString,
  groupVersionPath,
  collectionPath,
  objectPath,
  type Gvk,
  type ResolvedResource,
  type KubeObject,
  type KubeObjectMeta,
} from './types.js';
