import type { Writable } from 'node:stream';

/**
 * Writes one JSON value per line and resolves once the stream has taken the bytes (handed them to the pipe
 * or file): only then may a pull acknowledge, or a poll save its position past, what was written.
 */
export function writeLines(out: Writable, values: readonly unknown[]): Promise<void> {
  if (values.length === 0) return Promise.resolve();
  const text = values.map((value) => `${JSON.stringify(value)}\n`).join('');
  return new Promise((resolve, reject) => {
    out.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * An AbortSignal that fires on Ctrl-C (SIGINT), SIGTERM, or when stdout's reader has gone (`| head -1`):
 * the loops then stop at a page boundary, their position saved.
 */
export function stopSignal(out: Writable = process.stdout): { readonly signal: AbortSignal; readonly dispose: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  out.on('error', onError);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      out.off('error', onError);
    },
  };
}

/** The reader of stdout went away (`| head -1` has what it wanted): stop quietly, as `cat` would. */
export function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}
