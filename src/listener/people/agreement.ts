/**
 * Shadow agreement: how often CVP's verdict was what people then decided, the figure a team needs
 * before it turns the auto-release knob `on`. Pure: it reads decisions and actions, nothing else.
 */
import type { DecisionRecord, HumanAction } from '../domain';

export type AgreementVerdict = 'agreed' | 'disagreed' | 'not_acted';

export interface GateAgreement {
  gateKey: string;
  product: string;
  /** CVP's first decision of the gate, and when. */
  cvp: 'pass' | 'fail';
  decidedAt: number;
  mode: string;
  /** People's final word: their last release (pass) or hold (fail) of the gate; null when none yet. */
  people: 'pass' | 'fail' | null;
  /** Who said it, and when. */
  by: string | null;
  at: number | null;
  /** A waiver was given in the gate's thread. */
  waived: boolean;
  verdict: AgreementVerdict;
}

export interface ProductAgreement {
  product: string;
  gates: number;
  agreed: number;
  disagreed: number;
  notActed: number;
  /** agreed / (agreed + disagreed); null while nobody acted on any of its gates. */
  ratio: number | null;
}

export interface Agreement {
  since: number;
  products: ProductAgreement[];
  gates: GateAgreement[];
}

/** The modes in which people, not CVP, decide: what CVP said is a prediction to compare. */
const PEOPLE_DECIDE = new Set(['shadow', 'off']);

/** The product of a gate key (`product|type|artifact`). */
export function productOfGate(gateKey: string): string {
  return gateKey.split('|')[0];
}

/**
 * Per product, over the gates CVP first decided at or after `since` in `shadow` or `off`: CVP's
 * first decision against people's final verdict (release = pass, hold = fail). A failed gate that
 * people waived and then released counts as a disagreement: they overruled CVP. Waiving alone is
 * not a verdict yet.
 */
export function shadowAgreement(decisions: DecisionRecord[], actions: HumanAction[], since: number): Agreement {
  const first = new Map<string, DecisionRecord>();
  // Decisions come newest first (as the journal lists them): on a tie of times, the later listed is the earlier made.
  for (const d of decisions) {
    const seen = first.get(d.gateKey);
    if (!seen || d.createdAt <= seen.createdAt) first.set(d.gateKey, d);
  }
  const byGate = new Map<string, HumanAction[]>();
  for (const a of actions) {
    if (!a.gateKey) continue;
    const list = byGate.get(a.gateKey) ?? [];
    list.push(a);
    byGate.set(a.gateKey, list);
  }
  const gates: GateAgreement[] = [];
  for (const d of first.values()) {
    if (d.createdAt < since || !PEOPLE_DECIDE.has(d.mode)) continue;
    // Every action on the gate counts, whenever recorded: the CLI's host and the daemons need not share a clock.
    const acts = [...(byGate.get(d.gateKey) ?? [])].sort((x, y) => x.at - y.at);
    const final = [...acts].reverse().find((a) => a.kind === 'release' || a.kind === 'hold');
    const people = final ? (final.kind === 'release' ? 'pass' : 'fail') : null;
    gates.push({
      gateKey: d.gateKey, product: productOfGate(d.gateKey), cvp: d.decision, decidedAt: d.createdAt, mode: d.mode,
      people, by: final?.who ?? null, at: final?.at ?? null, waived: acts.some((a) => a.kind === 'waive'),
      verdict: people === null ? 'not_acted' : people === d.decision ? 'agreed' : 'disagreed',
    });
  }
  gates.sort((x, y) => y.decidedAt - x.decidedAt);
  const products = new Map<string, ProductAgreement>();
  for (const g of gates) {
    const p = products.get(g.product) ?? { product: g.product, gates: 0, agreed: 0, disagreed: 0, notActed: 0, ratio: null };
    p.gates += 1;
    if (g.verdict === 'agreed') p.agreed += 1;
    else if (g.verdict === 'disagreed') p.disagreed += 1;
    else p.notActed += 1;
    products.set(g.product, p);
  }
  for (const p of products.values()) p.ratio = p.agreed + p.disagreed ? p.agreed / (p.agreed + p.disagreed) : null;
  return { since, products: [...products.values()].sort((x, y) => x.product.localeCompare(y.product)), gates };
}

/** "92% (11 of 12 acted on; 3 not yet)", or why there is no figure yet. */
export function describeRatio(p: ProductAgreement): string {
  const acted = p.agreed + p.disagreed;
  const pending = p.notActed ? `; ${p.notActed} not yet acted on` : '';
  if (p.ratio === null) return `no figure yet (${p.gates} decision(s), none acted on)`;
  return `${(p.ratio * 100).toFixed(0)}% (${p.agreed} of ${acted} agreed${pending})`;
}
