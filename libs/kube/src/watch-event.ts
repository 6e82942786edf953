import { WatchProtocolError, type KubeStatus } from './errors.js';
import type { KubeObject } from './types.js';

/** One decoded line of a watch stream. */
export type WatchLineEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; resourceVersion: string; uid: string }
  | { type: 'BOOKMARK'; resourceVersion: string; initialEventsEnd: boolean }
  | { type: 'ERROR'; status: KubeStatus };

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/**
 * Decode one line of a watch response (`{"type":…,"object":…}`). Objects must carry a uid and a
 * resourceVersion (the engine's resume and dedupe depend on both); a line that is not a watch
 * event throws {@link WatchProtocolError}.
 */
export function parseWatchLine(line: string, what = 'watch'): WatchLineEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw WatchProtocolError(what, `a line is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object')
    throw WatchProtocolError(what, 'a line is not an object');
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (object === null || typeof object !== 'object') {
    throw WatchProtocolError(what, `event ${String(type)} has no object`);
  }
  const obj = object as KubeObject;
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED': {
      const uid = obj.metadata?.uid;
      const resourceVersion = obj.metadata?.resourceVersion;
      if (
        typeof uid !== 'string' ||
        uid === '' ||
        typeof resourceVersion !== 'string' ||
        resourceVersion === ''
      ) {
        throw WatchProtocolError(what, `${type} event without metadata.uid/resourceVersion`);
      }
      return { type, object: obj, resourceVersion, uid };
    }
    case 'BOOKMARK': {
      const resourceVersion = obj.metadata?.resourceVersion;
      if (typeof resourceVersion !== 'string' || resourceVersion === '') {
        throw WatchProtocolError(what, 'BOOKMARK without metadata.resourceVersion');
      }
      return {
        type,
        resourceVersion,
        initialEventsEnd: obj.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true',
      };
    }
    case 'ERROR':
      return { type, status: obj as KubeStatus };
    default:
      throw WatchProtocolError(what, `unknown event type ${JSON.stringify(type)}`);
  }
}
