import type { JournalStore } from './open-journal';
import { durationMs } from '../config/config';
import { CvpError } from '../errors';
import { describeRatio, shadowAgreement } from '../listener/people/agreement';

export interface DecisionsArgs {
  product?: string;
  limit: number;
  /** Per product: CVP's shadow/off decisions against what people then did. */
  summary: boolean;
  /** The summary's window: a duration back from now (30d) or a time (ISO 8601). */
  since: string;
  /** The waivers instead, revoked ones too. */
  waivers: boolean;
}

/** `--since 30d` or `--since 2026-11-01`: the epoch ms it means. */
export function sinceOf(value: string, now: number): number {
  if (/^\d+(ms|s|m|h|d)$/.test(value)) return now - durationMs(value, 0);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new CvpError('CONFIG_INVALID', `--since: neither a duration (30d, 12h) nor a time (2026-11-01T00:00:00Z): ${value}`, { permanent: true });
  return t;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * `cvp decisions`: the gates' decisions, newest first, with what the knob did; under each, the
 * results people waived and what people did about the gate. `--summary`: the shadow agreement per
 * product. `--waivers`: the waivers with their ids (what `cvp waive --revoke` takes).
 */
export async function runDecisions(args: DecisionsArgs, journal: JournalStore, out: (line: string) => void, now: number): Promise<number> {
  if (args.summary) {
    const since = sinceOf(args.since, now);
    const agreement = shadowAgreement(await journal.decisions(args.product, 100_000), await journal.actions(args.product, 100_000), since);
    out(`${'PRODUCT'.padEnd(24)}  ${'AGREEMENT'.padEnd(9)}  ${'AGREED'.padEnd(6)}  ${'DISAGREED'.padEnd(9)}  ${'NOT YET'.padEnd(7)}  GATES`);
    for (const p of agreement.products) {
      out(`${p.product.padEnd(24)}  ${(p.ratio === null ? '-' : `${(p.ratio * 100).toFixed(0)}%`).padEnd(9)}  ${String(p.agreed).padEnd(6)}  ${String(p.disagreed).padEnd(9)}  ${String(p.notActed).padEnd(7)}  ${p.gates}`);
    }
    for (const g of agreement.gates.filter((x) => x.verdict === 'disagreed')) {
      out(`  disagreed: ${g.gateKey}: CVP said ${g.cvp}, ${g.by} ${g.people === 'pass' ? 'released' : 'held'} it${g.waived ? ' (after a waiver)' : ''}`);
    }
    out(`since ${iso(since)}: CVP's first decision of each gate decided in shadow or off, against what people then did (release = pass, hold = fail)`);
    if (!agreement.products.length) out('no gate was decided in shadow or off mode in this window');
    for (const p of agreement.products) out(`${p.product}: ${describeRatio(p)}`);
    return 0;
  }
  if (args.waivers) {
    const rows = await journal.waivers(args.product, true, args.limit);
    out(`${'WAIVER'.padEnd(36)}  ${'GIVEN'.padEnd(24)}  ${'STATE'.padEnd(8)}  WHAT`);
    for (const w of rows) {
      out(`${w.id.padEnd(36)}  ${iso(w.createdAt).padEnd(24)}  ${(w.revokedAt === null ? 'in force' : 'revoked').padEnd(8)}  ${w.product}: ${w.testcase} on ${w.item} (${w.type})${w.scenario ? ` scenario ${w.scenario}` : ''} by ${w.who}: ${w.reason}`);
      if (w.revokedAt !== null) out(`  revoked by ${w.revokedBy} at ${iso(w.revokedAt)}`);
    }
    out(`${rows.length} waiver(s)`);
    return 0;
  }
  const rows = await journal.decisions(args.product, args.limit);
  const actions = await journal.actions(args.product, 10_000);
  out(`${'WHEN'.padEnd(24)}  ${'DECISION'.padEnd(8)}  ${'MODE'.padEnd(6)}  ${'ACTION'.padEnd(16)}  GATE (product|type|artifact)`);
  for (const d of rows) {
    out(`${iso(d.createdAt).padEnd(24)}  ${d.decision.padEnd(8)}  ${d.mode.padEnd(6)}  ${d.action.padEnd(16)}  ${d.gateKey}`);
    for (const r of d.reasons.filter((x) => x.waived_by !== undefined)) {
      out(`  waived: ${r.testcase} on ${r.item}${r.scenario ? ` (${r.scenario})` : ''}, ${r.outcome}, by ${r.waived_by}${r.waiver_reason ? `: ${r.waiver_reason}` : ''}`);
    }
  }
  // What people did about the gates listed, once per gate, oldest first.
  const listed = new Set(rows.map((d) => d.gateKey));
  const byGate = actions.filter((a) => a.gateKey && listed.has(a.gateKey)).reverse();
  for (const a of byGate) out(`  ${a.kind} by ${a.who} at ${iso(a.at)}: ${a.gateKey}${a.reason ? ` (${a.reason})` : ''}`);
  const counts = rows.reduce<Record<string, number>>((m, d) => ({ ...m, [d.action]: (m[d.action] ?? 0) + 1 }), {});
  out(`${rows.length} decision(s)${Object.keys(counts).length ? `: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}`);
  return 0;
}
