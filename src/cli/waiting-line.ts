/** Braille dots: one cell wide in every terminal font that has them. */
const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const frameMs = 100;
const eraseLine = '\r\x1b[2K';

/**
 * A spinner on one line of a terminal while a command waits, erased before anything else is printed. On
 * anything but a terminal (a file, a pipe, a test) it prints nothing, so logs hold no control sequences.
 */
export class WaitingLine {
  private timer: NodeJS.Timeout | undefined;
  private text = '';
  private since = 0;
  private frame = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** Shows (or updates) the line with `text` and the time spent waiting since it appeared. */
  show(text: string): void {
    if (this.stream.isTTY !== true) return;
    this.text = text;
    if (this.timer === undefined) {
      this.since = Date.now();
      this.timer = setInterval(() => this.draw(), frameMs);
      // The spinner alone must never keep the process alive.
      this.timer.unref();
    }
    this.draw();
  }

  /** Erases the line, if it is shown. */
  clear(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stream.write(eraseLine);
  }

  /** Prints a message on a line of its own, above where the spinner was. */
  note(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
  }

  private draw(): void {
    const seconds = Math.floor((Date.now() - this.since) / 1000);
    this.frame = (this.frame + 1) % frames.length;
    // Cut to the terminal's width (some report 0: unknown): a wrapped line could not be erased with one
    // carriage return.
    const columns = this.stream.columns > 0 ? this.stream.columns : 80;
    const line = `${frames[this.frame]} ${this.text} (${seconds}s)`.slice(0, columns - 1);
    this.stream.write(`${eraseLine}${line}`);
  }
}
