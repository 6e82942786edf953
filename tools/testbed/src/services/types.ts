import type { ComponentName } from '../components.js';
import type { DetachedSpec } from '../proc.js';
import type { ServiceName, State } from '../state.js';

export interface Health {
  ok: boolean;
  detail: string;
}

export interface Ctx {
  name: ServiceName;
  /** Data directory of this service (under the data root). */
  dir: string;
  ports: Record<string, number>;
  /** Persistent service-specific values (saved in the state file). */
  extra: Record<string, string>;
  state: State;
}

export interface ServiceDef {
  name: ServiceName;
  /** What it is built from, for `status --verbose` and the docs. */
  description: string;
  deps: ServiceName[];
  components: ComponentName[];
  portNames: string[];
  /** How long a (re)start may take to become healthy. */
  startTimeoutMs: number;
  /** Signal for a graceful `stop`. */
  stopSignal: NodeJS.Signals;
  /** Creates config/data on first use (idempotent) and returns the long-running process to spawn. */
  prepare(ctx: Ctx): Promise<DetachedSpec>;
  health(ctx: Ctx): Promise<Health>;
  /** One-off setup once healthy (idempotent: runs after every start). */
  afterStart?(ctx: Ctx): Promise<void>;
  /** KOLLECT_TEST_* variables (only when ports are known). */
  env(ctx: Ctx): Record<string, string>;
  /** Short "where" for status lines. */
  where(ctx: Ctx): string;
}
