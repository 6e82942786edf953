/**
 * Kollect's error taxonomy (SEED-SPEC §9.1). Every error is declared once with a stable code and
 * belongs to one class; the class decides retry behaviour and the status/metric surface.
 */
export type ErrorClass = 'transient' | 'terminal' | 'forbidden' | 'payload_too_large' | 'spill_required';

export const ERROR_CLASSES: readonly ErrorClass[] = [
  'transient',
  'terminal',
  'forbidden',
  'payload_too_large',
  'spill_required',
];

/** Base class of every Kollect error: a stable `code`, an error class and an optional status reason. */
export class KollectError extends Error {
  readonly code: string;
  readonly errorClass: ErrorClass;
  /** A condition reason (enum-like, CamelCase) for CR status, when one fits. */
  readonly reason: string | undefined;

  constructor(
    code: string,
    errorClass: ErrorClass,
    message: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KollectError';
    this.code = code;
    this.errorClass = errorClass;
    this.reason = options?.reason;
  }
}

/** A declared error: call it to build an instance; `is()` recognises instances. */
export interface ErrorFactory<A extends unknown[]> {
  (...args: [...A, { cause?: unknown }?]): KollectError;
  readonly code: string;
  readonly errorClass: ErrorClass;
  readonly reason: string | undefined;
  is(err: unknown): err is KollectError;
}

/**
 * Declare an error once: `const SinkAuthFailed = defineError('KOLLECT_ERR_SINK_AUTH', 'terminal',
 * (sink: string) => `credentials for ${sink} were rejected`, 'ExportTerminal')`.
 */
export function defineError<A extends unknown[]>(
  code: string,
  errorClass: ErrorClass,
  message: (...args: A) => string,
  reason?: string,
): ErrorFactory<A> {
  if (!/^KOLLECT_ERR_[A-Z0-9_]+$/.test(code)) {
    throw new Error(`error code ${code} must match KOLLECT_ERR_[A-Z0-9_]+`);
  }
  const arity = message.length;
  const factory = ((...args: unknown[]) => {
    const last = args.length > arity ? (args[arity] as { cause?: unknown } | undefined) : undefined;
    const msg = message(...(args.slice(0, arity) as A));
    return new KollectError(code, errorClass, msg, {
      ...(last?.cause !== undefined ? { cause: last.cause } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
  }) as unknown as ErrorFactory<A>;
  Object.defineProperties(factory, {
    code: { value: code },
    errorClass: { value: errorClass },
    reason: { value: reason },
    is: { value: (err: unknown) => err instanceof KollectError && err.code === code },
  });
  return factory;
}

/** The class of any error: Kollect errors carry theirs; everything unknown is transient. */
export function errorClassOf(err: unknown): ErrorClass {
  return err instanceof KollectError ? err.errorClass : 'transient';
}

/** True when retrying cannot help (terminal, forbidden, or a size problem). */
export function isPermanent(err: unknown): boolean {
  return errorClassOf(err) !== 'transient';
}

/**
 * The class of several per-sink errors taken together: terminal only when every part is
 * permanent (SEED-SPEC §9.1), transient otherwise.
 */
export function aggregateErrorClass(errors: readonly unknown[]): ErrorClass {
  if (errors.length === 0) return 'transient';
  return errors.every(isPermanent) ? 'terminal' : 'transient';
}

/**
 * Remove credentials from text before it reaches a log, status or event: URL userinfo, bearer
 * tokens, and `password=`-style pairs.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(:[^/\s@]*)?@/gi, '$1***@')
    .replace(/(authorization:\s*(?:bearer|basic)\s+)[^\s"']+/gi, '$1***')
    .replace(/\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1***')
    .replace(
      /\b(password|passwd|secret|token|apikey|api_key|access_key|secret_key|sslpassword)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi,
      '$1$2***',
    );
}
