/**
 * The logger shape the bus needs: pino's `(obj, msg)` call style. Pass a pino child logger from
 * `@kollect/observability`; the default discards everything.
 */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

export const silentLogger: BusLogger = { debug: noop, info: noop, warn: noop, error: noop };
