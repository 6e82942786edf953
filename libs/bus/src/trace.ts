import { randomBytes } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { HEADERS } from '@kollect/contracts';

/** A W3C trace context (https://www.w3.org/TR/trace-context/), version 00. */
export interface TraceContext {
  /** 32 lower-case hex chars, not all zero. */
  traceId: string;
  /** 16 lower-case hex chars, not all zero: the span that sent the message. */
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

/** Start a new trace (no parent). */
export function newTraceContext(sampled = true): TraceContext {
  return { traceId: nonZeroHex(16), spanId: nonZeroHex(8), sampled };
}

/** A child span in the same trace (what a service does when it handles a traced message). */
export function childTraceContext(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: nonZeroHex(8), sampled: parent.sampled };
}

/** `00-<trace>-<span>-<flags>` */
export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

/** Parse a `traceparent` value; `undefined` when absent or malformed (tracing never breaks delivery). */
export function parseTraceparent(value: string | undefined | null): TraceContext | undefined {
  if (!value) return undefined;
  const m = TRACEPARENT_RE.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, traceId, spanId, flags] = m as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** Set the `traceparent` header (creating the header set when needed); returns the headers. */
export function injectTrace(ctx: TraceContext, h: MsgHdrs = natsHeaders()): MsgHdrs {
  h.set(HEADERS.traceparent, formatTraceparent(ctx));
  return h;
}

/** Read the trace context from message headers, if any. */
export function extractTrace(h: MsgHdrs | undefined): TraceContext | undefined {
  return parseTraceparent(h?.get(HEADERS.traceparent));
}
