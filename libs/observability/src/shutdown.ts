/** One shutdown step. Steps run in the order given (stop intake first, close connections last). */
export interface ShutdownHandler {
  name: string;
  fn: () => void | Promise<void>;
}

/** Options of {@link installShutdown}. */
export interface ShutdownOptions {
  /** Give up waiting after this long and exit anyway (default 25 s, under the usual 30 s grace period). */
  timeoutMs?: number;
  /** Signals to handle (default SIGTERM and SIGINT). */
  signals?: NodeJS.Signals[];
  /** Exit the process when done (default true); tests pass false. */
  exit?: boolean;
  /** Where to report progress; pino-style. */
  logger?: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

/** A handle on the installed shutdown. */
export interface Shutdown {
  /** Run the shutdown now (idempotent: later calls return the same promise). Resolves to the exit code. */
  shutdown(reason: string): Promise<number>;
  /** Remove the signal handlers. */
  uninstall(): void;
  /** True once shutdown has begun. */
  readonly started: boolean;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT: run each handler in order, each failure logged and
 * skipped, the whole bounded by a timeout; exit 0 when all went well, 1 otherwise (or on a
 * timeout). A second signal exits at once.
 */
export function installShutdown(handlers: ShutdownHandler[], opts: ShutdownOptions = {}): Shutdown {
  const timeoutMs = opts.timeoutMs ?? 25_000;
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = opts.exit ?? true;
  let running: Promise<number> | undefined;

  const run = async (reason: string): Promise<number> => {
    opts.logger?.info({ reason }, 'shutting down');
    let code = 0;
    let timer: NodeJS.Timeout | undefined;
    const steps = (async () => {
      for (const h of handlers) {
        try {
          await h.fn();
        } catch (err) {
          code = 1;
          opts.logger?.error({ step: h.name, err }, 'shutdown step failed');
        }
      }
    })();
    const timedOut = await Promise.race([
      steps.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
        timer.unref();
      }),
    ]);
    if (timer) clearTimeout(timer);
    if (timedOut) {
      code = 1;
      opts.logger?.error({ timeoutMs }, 'shutdown timed out');
    } else {
      opts.logger?.info({ code }, 'shutdown complete');
    }
    if (exit) process.exit(code);
    return code;
  };

  const onSignal = (sig: NodeJS.Signals): void => {
    if (running) {
      // Second signal: the operator means it.
      if (exit) process.exit(130);
      return;
    }
    running = run(sig);
  };
  for (const s of signals) process.on(s, onSignal);

  return {
    shutdown(reason: string) {
      running ??= run(reason);
      return running;
    },
    uninstall() {
      for (const s of signals) process.off(s, onSignal);
    },
    get started() {
      return running !== undefined;
    },
  };
}
