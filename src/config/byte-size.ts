const units: Record<string, number> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1000 ** 2 };

/**
 * Parses a size such as `262144`, `256KiB` or `1MiB`.
 * @returns bytes, or `undefined` when the text is not a size.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const factor = units[(match?.[2] ?? '').toLowerCase()];
  if (!match || factor === undefined) return undefined;
  return Number(match[1]) * factor;
}
