/** Progress goes to stderr so that stdout stays clean for `env`. */
export function info(msg: string): void {
  process.stderr.write(`[testbed] ${msg}\n`);
}

export function warn(msg: string): void {
  process.stderr.write(`[testbed] WARNING: ${msg}\n`);
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - m * 60)
    .toString()
    .padStart(2, '0')}s`;
}

/** Prints "<what> … <elapsed>" every `everyMs` until stopped. */
export function ticker(what: string, everyMs = 15_000): { stop(): number } {
  const start = Date.now();
  const t = setInterval(() => info(`${what} … ${fmtMs(Date.now() - start)} elapsed`), everyMs);
  t.unref();
  return {
    stop() {
      clearInterval(t);
      return Date.now() - start;
    },
  };
}

export class TestbedError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'TestbedError';
  }
}
