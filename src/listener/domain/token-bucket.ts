/**
 * A token bucket kept in the journal, so that a rate (polls or triggers per second against one
 * Jenkins) holds across every daemon sharing the journal. Pure arithmetic: each journal adapter
 * reads the state, applies it and writes it back inside the claim's transaction.
 */
export interface BucketPolicy {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Tokens the bucket holds at most: how many may be taken at once after a quiet spell. */
  burst: number;
}

export interface BucketState {
  tokens: number;
  /** When `tokens` was last computed (epoch ms). */
  at: number;
}

/** The bucket as it stands at `now`; a bucket never seen before starts full. */
export function refill(state: BucketState | null, policy: BucketPolicy, now: number): BucketState {
  if (!state) return { tokens: policy.burst, at: now };
  const elapsed = Math.max(0, now - state.at);
  return { tokens: Math.min(policy.burst, state.tokens + (elapsed * policy.ratePerSecond) / 1000), at: Math.max(now, state.at) };
}

/** Takes up to `want` whole tokens; returns how many were taken and the state after. */
export function take(state: BucketState, want: number): { taken: number; state: BucketState } {
  const taken = Math.max(0, Math.min(want, Math.floor(state.tokens)));
  return { taken, state: { tokens: state.tokens - taken, at: state.at } };
}

/**
 * When the bucket next holds `want` whole tokens (at most its burst). Waking for a burst rather
 * than for each token lets one pass claim many runs, instead of one pass (two journal round trips)
 * per poll.
 */
export function nextTokenAt(state: BucketState | null, policy: BucketPolicy, now: number, want = 1): number {
  const need = Math.max(1, Math.min(want, policy.burst));
  const s = refill(state, policy, now);
  if (s.tokens >= need) return now;
  return s.at + Math.ceil(((need - s.tokens) * 1000) / policy.ratePerSecond);
}

/** A burst of a tenth of a second's worth, at least one token: a rate, never a flood. */
export function defaultBurst(ratePerSecond: number): number {
  return Math.max(1, Math.floor(ratePerSecond / 10));
}
