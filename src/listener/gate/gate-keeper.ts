import { randomUUID } from 'node:crypto';
import { describeError } from '../../errors';
import type { EventValidator } from '../../validator/event-validator';
import { type GateClaim, type GateReason, type GateSubject, type NewEffect, resultItems, type RunPlan } from '../domain';
import { decisionNotice, type NoticeOptions } from '../effects/notices';
import { simulatedType, threadOrderKey } from '../effects/reporter';
import type { Clock, Logger } from '../ports';
import type { GateSettlement, Journal } from '../ports/journal';
import { gateVerdict, type GateVerdict } from './gate-verdict';

export type ReleaseMode = 'off' | 'shadow' | 'on';

export interface ProductPolicy {
  name: string;
  required: Record<string, string[]>;
  release: ReleaseMode;
  releaseAction?: { bus?: string; http?: { url: string; method: 'POST' | 'PUT'; token?: string } };
  channel?: string;
}

export interface GateKeeperDeps {
  journal: Journal;
  policies: Map<string, ProductPolicy>;
  clock: Clock;
  log: Logger;
  validator: EventValidator;
  notices: NoticeOptions;
  hasNotifier: boolean;
  contact?: Record<string, string>;
  owner: string;
  leaseMs: number;
}

const DECISION_TOPIC = 'VirtualTopic.eng.cvp.gate.decision';

export function gateKey(product: string, artifactType: string, artifactId: string): string {
  return `${product}|${artifactType}|${artifactId}`;
}

/**
 * The gate of a product's artifact: once every required test case is final for every item, it
 * decides pass or fail (gateVerdict), records why, and sets off what the product's auto-release
 * knob says. A later result that changes the decision records a new one. Gates touched by new
 * results are claimed under a lease, so one daemon decides each, however many finish its runs.
 */
export class GateKeeper {
  constructor(private readonly deps: GateKeeperDeps) {}

  /** The gates the intake creates with the runs of a product's rules: their items are those put under test. */
  subjectsFor(plans: RunPlan[]): GateSubject[] {
    const out = new Map<string, GateSubject>();
    for (const plan of plans) {
      if (!plan.product || !this.deps.policies.has(plan.product)) continue;
      const c = plan.context;
      const key = gateKey(plan.product, c.artifactType, c.artifactId);
      const subject = out.get(key) ?? {
        key, product: plan.product, artifactType: c.artifactType, artifactId: c.artifactId, messageId: c.messageId,
        items: [], context: c, channel: this.deps.policies.get(plan.product)?.channel ?? plan.channel,
        ...(plan.simulated ? { simulated: true } : {}),
      };
      for (const i of resultItems(plan)) {
        const type = plan.simulated ? simulatedType(i.type) : i.type;
        if (!subject.items.some((x) => x.item === i.item && x.type === type)) subject.items.push({ item: i.item, type });
      }
      out.set(key, subject);
    }
    return [...out.values()];
  }

  /** One pass: the gates touched since they were last evaluated, decided and recorded in one commit. */
  async runOnce(): Promise<number> {
    const { journal, clock, owner, leaseMs } = this.deps;
    const claims = await journal.claimGates({ owner, now: clock.now(), leaseMs }, 32);
    if (!claims.length) return 0;
    const settlements = claims.map((c) => this.decide(c));
    await journal.settleGates(owner, settlements, clock.now());
    return claims.length;
  }

  nextDue(): Promise<number | null> {
    return this.deps.journal.nextGateDue(this.deps.clock.now());
  }

  private decide(claim: GateClaim): GateSettlement {
    const { gate, version } = claim;
    const unchanged: GateSettlement = { key: gate.key, version, effects: [] };
    const policy = this.deps.policies.get(gate.product);
    if (!policy) return unchanged;
    let verdict: GateVerdict;
    try {
      // A simulated event's items are typed apart: the policy's cases apply to them under that type.
      const required = gate.simulated
        ? Object.fromEntries(Object.entries(policy.required).map(([type, cases]) => [simulatedType(type), cases])) : policy.required;
      verdict = gateVerdict(gate.items, required, claim.results, claim.waivers);
    } catch (err) {
      this.deps.log.error({ gate: gate.key, err: describeError(err) }, 'gate evaluation failed; it is tried again with the next result');
      return unchanged;
    }
    if (!verdict.complete || verdict.decision === gate.decision) return unchanged;
    const { decision, reasons } = verdict;
    const mode = policy.release;
    const action = decision === 'fail' ? 'none'
      : gate.simulated ? 'would_release'
        : mode === 'off' ? 'asked' : mode === 'shadow' ? 'would_release' : gate.released ? 'already_released' : 'released';
    const effects: NewEffect[] = [];
    if (action === 'released') effects.push(...this.releaseEffects(gate, decision, reasons, mode));
    if (this.deps.hasNotifier) {
      const notice = decisionNotice({ context: gate.context, product: gate.product, decision, mode, action, reasons, channel: gate.channel, changed: gate.decision !== null, simulated: gate.simulated }, this.deps.notices);
      effects.push({ peer: 'slack', runId: null, orderKey: threadOrderKey(gate.messageId, notice.channel), payload: { kind: 'notice', role: 'reply', thread: gate.messageId, notice: { ...notice, key: randomUUID() } } });
    }
    const now = this.deps.clock.now();
    this.deps.log.info({ gate: gate.key, messageId: gate.messageId, decision, mode, action, reasons: reasons.length }, 'gate decided');
    return {
      key: gate.key, version, effects, released: gate.released || action === 'released',
      decision: { gateKey: gate.key, decision, mode, action, reasons, createdAt: now },
    };
  }

  /** The release action: the decision message on the bus and/or the release driver's HTTP call (idempotent by gate). */
  releaseEffects(gate: GateSubject, decision: 'pass' | 'fail', reasons: GateReason[], mode: ReleaseMode, releasedBy?: string): NewEffect[] {
    const policy = this.deps.policies.get(gate.product)!;
    const c = gate.context;
    const body = {
      artifact: {
        type: c.artifactType, id: c.artifactId,
        ...(c.component ? { component: c.component } : {}),
        ...(c.advisory && /^\d+$/.test(c.advisory) ? { errata_id: Number(c.advisory) } : {}),
        ...(c.images.length ? { images: c.images.map((i) => ({ name: i.name, nvr: i.nvr, full_name: i.fullName })) }
          : { nvrs: gate.items.map((i) => i.item) }),
      },
      product: gate.product,
      decision,
      reasons: reasons.map((r) => ({
        testcase: r.testcase, item: r.item, outcome: r.outcome, ...(r.ref_url ? { ref_url: r.ref_url } : {}), ...(r.scenario ? { scenario: r.scenario } : {}),
        ...(r.waived_by ? { waived_by: r.waived_by, ...(r.waiver_reason ? { waiver_reason: r.waiver_reason } : {}) } : {}),
      })),
      release: { mode, action: 'released', ...(releasedBy ? { released_by: releasedBy } : {}) },
      ...(this.deps.contact ? { contact: this.deps.contact } : {}),
      generated_at: new Date(this.deps.clock.now()).toISOString(),
      version: '1.0.0',
    };
    this.deps.validator.assertValid(DECISION_TOPIC, body);
    const text = JSON.stringify(body);
    const effects: NewEffect[] = [];
    if (policy.releaseAction?.bus) {
      effects.push({ peer: 'bus', runId: null, orderKey: `release|${gate.key}`, payload: { kind: 'publish', destination: policy.releaseAction.bus, body: text, headers: { 'cvp-gate': gate.key } } });
    }
    if (policy.releaseAction?.http) {
      const h = policy.releaseAction.http;
      effects.push({ peer: 'release', runId: null, orderKey: `release|${gate.key}`, payload: { kind: 'http', url: h.url, method: h.method, body: text, idempotencyKey: gate.key } });
    }
    return effects;
  }
}
