import type { GateReason, ItemRef, KnownResult, Waiver } from '../domain';
import { PASSING_OUTCOMES } from '../domain/outcome';

export const INCOMPLETE_OUTCOMES = new Set(['QUEUED', 'RUNNING']);

/**
 * Greenwave's rule: the latest result per item, type, test case and scenario wins (a later INFO
 * or PASSED hides an earlier FAILED of the same scenario, but not of another).
 */
export function latestResults(results: KnownResult[]): KnownResult[] {
  const latest = new Map<string, KnownResult>();
  for (const r of results) {
    const key = [r.item, r.type, r.testcase, r.scenario ?? ''].join('\u0000');
    const seen = latest.get(key);
    if (!seen || r.seq > seen.seq) latest.set(key, r);
  }
  return [...latest.values()];
}

export type GateVerdict = { complete: false } | { complete: true; decision: 'pass' | 'fail'; reasons: GateReason[] };

function reason(r: KnownResult, why: string, waiver?: Waiver): GateReason {
  return {
    testcase: r.testcase, item: r.item, type: r.type, ...(r.scenario ? { scenario: r.scenario } : {}), outcome: r.outcome,
    ...(r.refUrl ? { ref_url: r.refUrl } : {}), why,
    ...(waiver ? { waived_by: waiver.who, waiver_reason: waiver.reason } : {}),
  };
}

/** A waiver in force for this result: same item, type and test case, and its scenario (or any, when it names none). */
export function waiverFor(r: KnownResult, waivers: Waiver[]): Waiver | undefined {
  return waivers.find((w) => w.revokedAt === null && w.item === r.item && w.type === r.type && w.testcase === r.testcase
    && (w.scenario === null || w.scenario === (r.scenario ?? '')));
}

/** Passes, or a person waived it. */
export function counts(reason: GateReason): boolean {
  return PASSING_OUTCOMES.has(reason.outcome) || reason.waived_by !== undefined;
}

/**
 * The verdict on a gate's items once every required test case is final for each (in every
 * scenario it has results for): pass if they pass and no other known case of these items fails,
 * else fail, with why. Incomplete while a required case has no result or one still running.
 */
export function gateVerdict(items: ItemRef[], required: Record<string, string[]>, results: KnownResult[], waivers: Waiver[] = []): GateVerdict {
  const held = new Set(items.map((i) => `${i.item}\u0000${i.type}`));
  const latest = latestResults(results.filter((r) => held.has(`${r.item}\u0000${r.type}`)));
  const reasons: GateReason[] = [];
  const counted = new Set<KnownResult>();
  for (const [type, cases] of Object.entries(required)) {
    for (const { item } of items.filter((i) => i.type === type)) {
      for (const testcase of cases) {
        const found = latest.filter((r) => r.item === item && r.type === type && r.testcase === testcase);
        if (!found.length || found.some((r) => INCOMPLETE_OUTCOMES.has(r.outcome))) return { complete: false };
        for (const r of found) {
          counted.add(r);
          const waiver = PASSING_OUTCOMES.has(r.outcome) ? undefined : waiverFor(r, waivers);
          reasons.push(reason(r, PASSING_OUTCOMES.has(r.outcome) ? 'required; passes' : waiver ? 'required; waived' : 'required; does not pass', waiver));
        }
      }
    }
  }
  for (const r of latest) {
    if (counted.has(r) || INCOMPLETE_OUTCOMES.has(r.outcome) || PASSING_OUTCOMES.has(r.outcome)) continue;
    const waiver = waiverFor(r, waivers);
    reasons.push(reason(r, waiver ? 'not required; fails, waived' : 'not required, but it fails', waiver));
  }
  return { complete: true, decision: reasons.every(counts) ? 'pass' : 'fail', reasons };
}
