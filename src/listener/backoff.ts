/** Exponential backoff with full jitter in [delay/2, delay]: retries of many runs spread out. */
export function backoff(attempt: number, random: () => number, baseMs: number, maxMs: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay / 2 + (random() * delay) / 2);
}
