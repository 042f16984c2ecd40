// Splits a byte stream into newline-terminated lines. Chunks end anywhere (in the
// middle of a line, of a UTF-8 sequence), so bytes are buffered, never decoded early.
// A line longer than the limit is dropped as it streams in (its bytes are not kept)
// and reported once, so a runaway peer cannot make us buffer without bound.

const NEWLINE = 0x0a;

export interface LineSink {
  line(bytes: Buffer): void;
  /** A line of `bytes` bytes (at least) exceeded the limit and was discarded. */
  overlong(bytes: number): void;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the current line seen while discarding it. */
  private discarded = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: LineSink,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl === -1) return;
      this.finishLine();
      start = nl + 1;
    }
  }

  /** End of stream: a last line without its newline still counts. */
  end(): void {
    if (this.size > 0 || this.discarded > 0) this.finishLine();
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.discarded > 0) {
      this.discarded += piece.length;
      return;
    }
    if (this.size + piece.length > this.maxBytes) {
      this.discarded = this.size + piece.length;
      this.parts = [];
      this.size = 0;
      return;
    }
    // Copy: the stream may reuse the chunk's memory after the callback returns.
    this.parts.push(Buffer.from(piece));
    this.size += piece.length;
  }

  private finishLine(): void {
    if (this.discarded > 0) {
      const n = this.discarded;
      this.discarded = 0;
      this.sink.overlong(n);
      return;
    }
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.sink.line(line);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one line; undefined when it is not valid UTF-8. Drops a trailing CR. */
export function decodeLine(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
