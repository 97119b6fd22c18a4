import { describeError } from '../../errors';
import type { EventValidator } from '../../validator/event-validator';
import { type Journal } from '../ports/journal';
import { allItems, type GateReason, type GateSubject, type KnownResult, type NewEffect, type RunPlan } from '../domain';
import { decisionNotice, type NoticeOptions } from '../effects/notices';
import { PASSING_OUTCOMES } from '../domain/outcome';
import type { Clock, Logger } from '../ports';

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
}

const INCOMPLETE = new Set(['QUEUED', 'RUNNING']);
const DECISION_TOPIC = 'VirtualTopic.eng.cvp.gate.decision';

export function gateKey(product: string, artifactType: string, artifactId: string): string {
  return `${product}|${artifactType}|${artifactId}`;
}

/**
 * The gate of a product's artifact: once every required test case is final for every item, it
 * decides pass or fail (the latest result of each case wins; PASSED and INFO pass; a failing
 * result of any other case fails it too), records why, and sets off what the product's
 * auto-release knob says. A later result that changes the decision records a new one.
 */
export class GateKeeper {
  constructor(private readonly deps: GateKeeperDeps) {}

  /** The gates the intake creates with the runs of a product's rules. */
  subjectsFor(plans: RunPlan[]): GateSubject[] {
    const out = new Map<string, GateSubject>();
    for (const plan of plans) {
      if (!plan.product || !this.deps.policies.has(plan.product)) continue;
      const c = plan.context;
      const key = gateKey(plan.product, c.artifactType, c.artifactId);
      const subject = out.get(key) ?? {
        key, product: plan.product, artifactType: c.artifactType, artifactId: c.artifactId, messageId: c.messageId,
        items: [], context: c, channel: this.deps.policies.get(plan.product)?.channel ?? plan.channel,
      };
      for (const i of allItems(plan)) if (!subject.items.some((x) => x.item === i.item && x.type === i.type)) subject.items.push({ item: i.item, type: i.type });
      out.set(key, subject);
    }
    return [...out.values()];
  }

  /** Re-decides the gates that hold any of these items. */
  afterResults(items: Array<{ item: string; type: string }>): void {
    const keys = new Set(items.flatMap((i) => this.deps.journal.gatesForItem(i.item, i.type)));
    for (const key of keys) this.evaluate(key);
  }

  /** At start-up: gates a crash may have left undecided. */
  sweep(): void {
    for (const key of this.deps.journal.openGates(10_000)) this.evaluate(key);
  }

  evaluate(key: string): void {
    try {
      this.decide(key);
    } catch (err) {
      this.deps.log.error({ gate: key, err: describeError(err) }, 'gate evaluation failed; it is tried again with the next result');
    }
  }

  private decide(key: string): void {
    const { journal, clock, log } = this.deps;
    const gate = journal.gate(key);
    const policy = gate ? this.deps.policies.get(gate.product) : undefined;
    if (!gate || !policy) return;
    const latest = journal.latestResults(gate.items);
    const find = (item: string, type: string, testcase: string): KnownResult | undefined =>
      latest.find((r) => r.item === item && r.type === type && r.testcase === testcase);
    const reasons: GateReason[] = [];
    for (const [type, cases] of Object.entries(policy.required)) {
      for (const { item } of gate.items.filter((i) => i.type === type)) {
        for (const testcase of cases) {
          const r = find(item, type, testcase);
          if (!r || INCOMPLETE.has(r.outcome)) return;
          reasons.push({ testcase, item, type, outcome: r.outcome, ...(r.refUrl ? { ref_url: r.refUrl } : {}),
            why: PASSING_OUTCOMES.has(r.outcome) ? 'required; passes' : 'required; does not pass' });
        }
      }
    }
    const required = new Set(reasons.map((r) => `${r.item}|${r.type}|${r.testcase}`));
    for (const r of latest) {
      if (required.has(`${r.item}|${r.type}|${r.testcase}`) || INCOMPLETE.has(r.outcome) || PASSING_OUTCOMES.has(r.outcome)) continue;
      reasons.push({ testcase: r.testcase, item: r.item, type: r.type, outcome: r.outcome, ...(r.refUrl ? { ref_url: r.refUrl } : {}), why: 'not required, but it fails' });
    }
    const decision = reasons.every((r) => PASSING_OUTCOMES.has(r.outcome)) ? 'pass' : 'fail';
    if (decision === gate.decision) return;
    const mode = policy.release;
    const action = decision === 'fail' ? 'none'
      : mode === 'off' ? 'asked' : mode === 'shadow' ? 'would_release' : gate.released ? 'already_released' : 'released';
    const effects: NewEffect[] = [];
    const orderKey = `${gate.messageId}|${gate.channel ?? ''}`;
    if (action === 'released') effects.push(...this.releaseEffects(gate, decision, reasons, mode));
    if (this.deps.hasNotifier) {
      const notice = decisionNotice({ context: gate.context, product: gate.product, decision, mode, action, reasons, channel: gate.channel, changed: gate.decision !== null }, this.deps.notices);
      effects.push({ peer: 'slack', runId: null, orderKey, payload: { kind: 'notice', role: 'reply', thread: gate.messageId, notice } });
    }
    const now = clock.now();
    journal.recordDecision({ gateKey: key, decision, mode, action, reasons, createdAt: now }, gate.released || action === 'released', effects, now);
    log.info({ gate: key, messageId: gate.messageId, decision, mode, action, reasons: reasons.length }, 'gate decided');
  }

  private releaseEffects(gate: GateSubject, decision: 'pass' | 'fail', reasons: GateReason[], mode: ReleaseMode): NewEffect[] {
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
      reasons: reasons.map((r) => ({ testcase: r.testcase, item: r.item, outcome: r.outcome, ...(r.ref_url ? { ref_url: r.ref_url } : {}) })),
      release: { mode, action: 'released' },
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
