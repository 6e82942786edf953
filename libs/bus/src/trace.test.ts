import { describe, expect, it } from 'vitest';
import { headers } from '@nats-io/transport-node';
import {
  childTraceContext,
  extractTrace,
  formatTraceparent,
  injectTrace,
  newTraceContext,
  parseTraceparent,
} from './trace.js';

describe('trace propagation', () => {
  it('formats and parses a W3C traceparent', () => {
    const ctx = newTraceContext();
    const tp = formatTraceparent(ctx);
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(parseTraceparent(tp)).toEqual(ctx);
  });

  it('keeps the trace id and changes the span id in a child', () => {
    const parent = newTraceContext(false);
    const child = childTraceContext(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.spanId).not.toBe(parent.spanId);
    expect(child.sampled).toBe(false);
  });

  it('ignores malformed or all-zero values instead of failing delivery', () => {
    expect(parseTraceparent(undefined)).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`)).toBeUndefined();
  });

  it('injects into and extracts from NATS headers', () => {
    const ctx = newTraceContext();
    const h = injectTrace(ctx, headers());
    expect(extractTrace(h)).toEqual(ctx);
    expect(extractTrace(undefined)).toBeUndefined();
  });
});
