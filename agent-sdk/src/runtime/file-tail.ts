import { open, stat, type FileHandle } from 'node:fs/promises';

export interface FileTailOptions {
  /** Start at the beginning of the file (default: at its end, as `tail -F`). */
  fromStart?: boolean;
  pollMs?: number;
  /** Longer lines are skipped whole and reported through `onOversized` (default 1 MiB). */
  maxLineBytes?: number;
  onLine: (line: string) => void;
  onOversized?: () => void;
  onError?: (err: Error) => void;
}

/**
 * Follows a file a sensor appends JSON lines to, like `tail -F`: waits for it to exist, reads what is appended,
 * and starts over from the beginning when the file is replaced (a new inode: rotation) or shrinks (truncation).
 * A partial last line waits for its newline. Node only.
 */
export class FileTail {
  #handle: FileHandle | undefined;
  #ino = -1;
  #pos = 0;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #skipping = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #first = true;
  readonly #buf = Buffer.alloc(1 << 16);

  constructor(readonly path: string, private readonly o: FileTailOptions) {}

  start(): void {
    void this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
  }

  /** Reads everything available now (also used by tests to step deterministically). */
  async poll(): Promise<void> {
    let st;
    try {
      st = await stat(this.path);
    } catch {
      return; // not there yet (or rotated away for a moment)
    }
    if (!this.#handle || st.ino !== this.#ino || st.size < this.#pos) {
      await this.#handle?.close().catch(() => undefined);
      this.#handle = await open(this.path, 'r');
      this.#ino = st.ino;
      this.#pos = this.#first && !this.o.fromStart ? st.size : 0;
      this.#first = false;
      this.#partial = [];
      this.#partialBytes = 0;
      this.#skipping = false;
    }
    for (;;) {
      const { bytesRead } = await this.#handle.read(this.#buf, 0, this.#buf.length, this.#pos);
      if (bytesRead === 0) return;
      this.#pos += bytesRead;
      this.#split(this.#buf.subarray(0, bytesRead));
    }
  }

  #split(chunk: Buffer): void {
    const max = this.o.maxLineBytes ?? 1 << 20;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#skipping || this.#partialBytes + piece.length > max) {
        if (!this.#skipping) this.o.onOversized?.();
        this.#skipping = false;
        this.#partial = [];
        this.#partialBytes = 0;
        continue;
      }
      const line = this.#partialBytes ? Buffer.concat([...this.#partial, piece]).toString('utf8') : piece.toString('utf8');
      this.#partial = [];
      this.#partialBytes = 0;
      if (line.trim() !== '') this.o.onLine(line);
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0 || this.#skipping) return;
    if (this.#partialBytes + rest.length > max) {
      this.o.onOversized?.();
      this.#skipping = true;
      this.#partial = [];
      this.#partialBytes = 0;
      return;
    }
    this.#partial.push(Buffer.from(rest));
    this.#partialBytes += rest.length;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      await this.poll().catch((err: Error) => this.o.onError?.(err));
      if (this.#stopped) return;
      await new Promise<void>((r) => (this.#timer = setTimeout(r, this.o.pollMs ?? 100)));
    }
  }
}
