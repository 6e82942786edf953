import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.js';
import { WatchLineTooLarge } from './errors.js';

describe('LineSplitter', () => {
  it('returns complete lines and keeps the incomplete tail for the next chunk', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.pendingBytes).toBe(4);
    expect(s.push(':2}\n')).toEqual(['{"b":2}']);
    expect(s.pendingBytes).toBe(0);
  });

  it('reassembles a multi-byte UTF-8 character split across chunks', () => {
    const line = Buffer.from('{"name":"crème-brûlée-☃"}\n', 'utf8');
    const cut = line.indexOf(0xe2); // first byte of the snowman
    const s = new LineSplitter();
    expect(s.push(line.subarray(0, cut + 1))).toEqual([]);
    expect(s.push(line.subarray(cut + 1))).toEqual(['{"name":"crème-brûlée-☃"}']);
  });

  it('splits one chunk holding many lines, skipping blank lines and dropping CR', () => {
    const s = new LineSplitter();
    expect(s.push('a\r\n\nb\n   \nc\n')).toEqual(['a', 'b', 'c']);
  });

  it('feeds byte by byte to the same result as one chunk', () => {
    const text = '{"type":"ADDED"}\n{"type":"MODIFIED","x":"ü"}\n{"type":"DELETED"}\n';
    const whole = new LineSplitter().push(text);
    const s = new LineSplitter();
    const got: string[] = [];
    for (const b of Buffer.from(text, 'utf8')) got.push(...s.push(Buffer.from([b])));
    expect(got).toEqual(whole);
    expect(got).toHaveLength(3);
  });

  it('gives the unterminated last line at end of stream', () => {
    const s = new LineSplitter();
    expect(s.push('x\ny')).toEqual(['x']);
    expect(s.end()).toBe('y');
    expect(s.end()).toBeUndefined();
  });

  it('throws when one line grows past the cap instead of buffering without bound', () => {
    const s = new LineSplitter(10);
    s.push('12345');
    let err: unknown;
    try {
      s.push('678901234');
    } catch (e) {
      err = e;
    }
    expect(WatchLineTooLarge.is(err)).toBe(true);
    expect(s.pendingBytes).toBe(0);
  });

  it('does not keep a reference to the caller chunk for the pending tail', () => {
    const s = new LineSplitter();
    const chunk = Buffer.from('ab\ncd');
    s.push(chunk);
    chunk.fill(0x7a); // caller reuses its buffer
    expect(s.push('\n')).toEqual(['cd']);
  });
});
