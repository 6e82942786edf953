import { WatchLineTooLarge } from './errors.js';

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into newline-delimited lines without decoding partial UTF-8 sequences
 * (a chunk boundary may fall inside a multi-byte character) and without holding more than one
 * incomplete line. Blank lines are skipped; a trailing `\r` is dropped.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;

  /** @param maxLineBytes a line longer than this throws {@link WatchLineTooLarge} (memory guard). */
  constructor(maxLineBytes = 64 * 1024 * 1024) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Feed a chunk; returns the lines it completed (possibly none). */
  push(chunk: Buffer | Uint8Array | string): string[] {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const piece = buf.subarray(start, nl);
      if (this.#parts.length) {
        this.#checkSize(piece.length);
        this.#parts.push(piece);
        this.#emit(Buffer.concat(this.#parts, this.#partBytes + piece.length), out);
        this.#parts = [];
        this.#partBytes = 0;
      } else {
        this.#checkSize(piece.length);
        this.#emit(piece, out);
      }
      start = nl + 1;
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      this.#checkSize(rest.length);
      // Copy: the caller may reuse its chunk buffer.
      this.#parts.push(Buffer.from(rest));
      this.#partBytes += rest.length;
    }
    return out;
  }

  /** End of stream: the unterminated last line, if any (a server may omit the final newline). */
  end(): string | undefined {
    if (!this.#parts.length) return undefined;
    const out: string[] = [];
    this.#emit(Buffer.concat(this.#parts, this.#partBytes), out);
    this.#parts = [];
    this.#partBytes = 0;
    return out[0];
  }

  /** Bytes held for the incomplete line. */
  get pendingBytes(): number {
    return this.#partBytes;
  }

  #checkSize(adding: number): void {
    if (this.#partBytes + adding > this.#maxLineBytes) {
      const bytes = this.#partBytes + adding;
      this.#parts = [];
      this.#partBytes = 0;
      throw WatchLineTooLarge(bytes, this.#maxLineBytes);
    }
  }

  #emit(line: Buffer, out: string[]): void {
    let end = line.length;
    if (end > 0 && line[end - 1] === 0x0d) end--;
    if (end === 0) return;
    const s = line.toString('utf8', 0, end);
    if (s.trim() === '') return;
    out.push(s);
  }
}
