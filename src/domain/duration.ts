/** Units accepted in durations such as `500ms`, `10s`, `5m`, `12h`, `30d`. */
const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a duration written as a number and a unit.
 * @returns milliseconds, or `undefined` when the text is not a duration.
 * @example parseDuration('12h') // 43_200_000
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof unitMs;
  return Math.round(amount * unitMs[unit]);
}
