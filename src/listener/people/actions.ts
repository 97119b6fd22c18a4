import { randomUUID } from 'node:crypto';
import { describeError } from '../../errors';
import { type Change, emptyChange, type Gate, type HumanAction, type Run, type RunPlan, type Waiver } from '../domain';
import { actionNotice, type NoticeOptions } from '../effects/notices';
import { threadOrderKey } from '../effects/reporter';
import type { GateKeeper, ProductPolicy } from '../gate/gate-keeper';
import type { Clock, Logger, Notice } from '../ports';
import type { ActionRecord, Journal } from '../ports/journal';

export type ActionRequest =
  | { kind: 'release' | 'hold'; gateKey: string; reason?: string }
  | { kind: 'rerun'; runId: string }
  | { kind: 'waive'; gateKey: string; item: string; type?: string; testcase: string; scenario?: string | null; reason: string }
  | { kind: 'revoke'; waiverId: string; reason?: string };

/** Who acts, and how: a Slack user (checked against the product's approvers) or the CLI. */
export interface Actor {
  who: string;
  via: 'slack' | 'cli';
  /** The action's idempotency key (a Slack click's own id; the CLI's --id), so a repeat acts once. */
  id?: string;
}

export type ActionResult =
  | { status: 'done'; message: string; action: HumanAction }
  | { status: 'duplicate' | 'refused' | 'not_found'; message: string };

export interface ActionsDeps {
  journal: Journal;
  policies: Map<string, ProductPolicy>;
  gate?: GateKeeper;
  clock: Clock;
  log: Logger;
  notices: NoticeOptions;
  hasNotifier: boolean;
  /** Whether this actor may act on this product (Slack: its approvers); the CLI's user is trusted by its access to the journal. */
  allowed?: (product: string, actor: Actor) => Promise<boolean> | boolean;
  newId?: () => string;
  /** Called after an action was recorded (the daemon wakes its loops: effects, a rerun, a gate to look at again). */
  onRecorded?: () => void;
}

/** The run's plan again, under a new id: what a rerun starts. */
function replan(run: Run, id: string): RunPlan & { messageId: string } {
  const {
    messageId, state: _s, buildRef: _b, buildResult: _r, outcome: _o, errorReason: _e, createdAt: _c, updatedAt: _u, deadlineAt: _d,
    nextPollAt: _n, attempts: _a, triggeredAt: _t, startedAt: _st, finishedAt: _f, reported: _rp, supersededBy: _sb, claimedFrom: _cf, ...plan
  } = run;
  return { ...plan, id, messageId };
}

/**
 * People in the loop: release or hold a gate, rerun a run, waive a failing result or revoke a
 * waiver, from Slack's buttons or the CLI. Each is checked, recorded once in the journal (with what
 * it sets off) and said in the event's thread: who, what, when.
 */
export class Actions {
  private readonly newId: () => string;

  constructor(private readonly deps: ActionsDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  async act(req: ActionRequest, actor: Actor): Promise<ActionResult> {
    try {
      return await this.handle(req, actor);
    } catch (err) {
      this.deps.log.error({ action: req.kind, who: actor.who, err: describeError(err) }, 'action failed');
      throw err;
    }
  }

  private async handle(req: ActionRequest, actor: Actor): Promise<ActionResult> {
    const { journal } = this.deps;
    if (req.kind === 'rerun') {
      const run = await journal.run(req.runId);
      if (!run) return { status: 'not_found', message: `no run ${req.runId}` };
      if (run.state !== 'finished') return { status: 'refused', message: `run ${run.id} has not finished (it is ${run.state}): nothing to run again yet` };
      const product = run.product ?? '';
      const denied = await this.denied(product, actor);
      if (denied) return denied;
      const again = replan(run, this.newId());
      const action = this.action('rerun', product, actor, { runId: run.id });
      const notice = actionNotice({ context: run.context, channel: run.channel ?? this.deps.notices.channel, what: `asked for ${run.job} to run again (run ${again.id}, replacing ${run.id})`, who: actor.who, at: action.at }, this.deps.notices);
      return this.record({ action, rerun: again, change: this.say(run.messageId, notice) }, `run ${run.id} runs again as ${again.id}`);
    }
    if (req.kind === 'revoke') {
      const waiver = await journal.waiver(req.waiverId);
      if (!waiver) return { status: 'not_found', message: `no waiver ${req.waiverId}` };
      if (waiver.revokedAt !== null) return { status: 'duplicate', message: `waiver ${waiver.id} was revoked already by ${waiver.revokedBy}` };
      const denied = await this.denied(waiver.product, actor);
      if (denied) return denied;
      const action = this.action('revoke', waiver.product, actor, { waiverId: waiver.id, ...(req.reason ? { reason: req.reason } : {}) });
      const change: Change = { ...emptyChange(), touch: [{ item: waiver.item, type: waiver.type }] };
      return this.record({ action, revoke: { waiverId: waiver.id, at: action.at, by: actor.who }, change }, `waiver ${waiver.id} revoked`);
    }
    const gate = await journal.gate(req.gateKey);
    if (!gate) return { status: 'not_found', message: `no gate ${req.gateKey}` };
    const policy = this.deps.policies.get(gate.product);
    if (!policy) return { status: 'refused', message: `product ${gate.product} is no longer configured` };
    const denied = await this.denied(gate.product, actor);
    if (denied) return denied;
    if (req.kind === 'waive') return this.waive(gate, req, actor);
    if (gate.released) return { status: 'duplicate', message: `${gate.product} ${gate.artifactId} was released already` };
    if (req.kind === 'hold') {
      const action = this.action('hold', gate.product, actor, { gateKey: gate.key, ...(req.reason ? { reason: req.reason } : {}) });
      const notice = actionNotice({ context: gate.context, channel: gate.channel, what: `held ${gate.product} ${gate.artifactId}${req.reason ? `: ${req.reason}` : ''}`, who: actor.who, at: action.at }, this.deps.notices);
      return this.record({ action, change: this.say(gate.messageId, notice) }, `${gate.product} ${gate.artifactId} held`);
    }
    if (gate.decision !== 'pass') {
      return { status: 'refused', message: `the gate of ${gate.product} ${gate.artifactId} has ${gate.decision === 'fail' ? 'failed' : 'not decided yet'}: waive what fails, or wait, before releasing` };
    }
    const action = this.action('release', gate.product, actor, { gateKey: gate.key });
    const change = emptyChange();
    const hasAction = !!(policy.releaseAction?.bus || policy.releaseAction?.http);
    if (hasAction && this.deps.gate) change.effects.push(...this.deps.gate.releaseEffects(gate, 'pass', gate.reasons, policy.release, actor.who));
    const notice = actionNotice({
      context: gate.context, channel: gate.channel, who: actor.who, at: action.at,
      what: `released ${gate.product} ${gate.artifactId}${hasAction ? '' : ' (no release action is configured: this records the decision)'}`,
    }, this.deps.notices);
    change.effects.push(...this.say(gate.messageId, notice).effects);
    return this.record({ action, releaseGate: gate.key, change }, `${gate.product} ${gate.artifactId} released`);
  }

  private async waive(gate: Gate, req: Extract<ActionRequest, { kind: 'waive' }>, actor: Actor): Promise<ActionResult> {
    const item = gate.items.find((i) => i.item === req.item && (req.type === undefined || i.type === req.type));
    if (!item) return { status: 'not_found', message: `${req.item} is not an item of the gate of ${gate.product} ${gate.artifactId}` };
    if (!req.reason.trim()) return { status: 'refused', message: 'a waiver needs a reason' };
    const at = this.deps.clock.now();
    const waiver: Waiver = {
      id: this.newId(), product: gate.product, item: item.item, type: item.type, testcase: req.testcase, scenario: req.scenario ?? null,
      reason: req.reason.trim().slice(0, 1000), who: actor.who, createdAt: at, revokedAt: null, revokedBy: null,
    };
    const action = this.action('waive', gate.product, actor, { gateKey: gate.key, waiverId: waiver.id, reason: waiver.reason });
    const notice = actionNotice({
      context: gate.context, channel: gate.channel, who: actor.who, at,
      what: `waived ${waiver.testcase} on ${waiver.item}${waiver.scenario ? ` (${waiver.scenario})` : ''}: ${waiver.reason} (waiver ${waiver.id})`,
      waiverId: waiver.id,
    }, this.deps.notices);
    const change = this.say(gate.messageId, notice);
    change.touch.push({ item: item.item, type: item.type });
    return this.record({ action, waiver, change }, `waiver ${waiver.id} given`);
  }

  private action(kind: HumanAction['kind'], product: string, actor: Actor, more: Partial<HumanAction>): HumanAction {
    return { id: actor.id ?? this.newId(), kind, product, who: actor.who, via: actor.via, at: this.deps.clock.now(), ...more };
  }

  private async denied(product: string, actor: Actor): Promise<ActionResult | null> {
    if (!this.deps.allowed || (await this.deps.allowed(product, actor))) return null;
    return { status: 'refused', message: `${actor.who} may not act on ${product || 'this run'}: ask one of its approvers` };
  }

  /** A reply in the event's thread, when there is a notifier. */
  private say(thread: string, notice: Notice): Change {
    const change = emptyChange();
    if (this.deps.hasNotifier) {
      change.effects.push({ peer: 'slack', runId: null, orderKey: threadOrderKey(thread, notice.channel), payload: { kind: 'notice', role: 'reply', thread, notice: { ...notice, key: randomUUID() } } });
    }
    return change;
  }

  private async record(record: ActionRecord, done: string): Promise<ActionResult> {
    const status = await this.deps.journal.recordAction(record);
    const a = record.action;
    if (status === 'duplicate') return { status, message: `${a.kind} ${a.gateKey ?? a.runId ?? a.waiverId ?? ''}: done already; nothing more was done`.replace(/\s+:/, ':') };
    this.deps.log.info({ action: a.kind, id: a.id, who: a.who, via: a.via, gate: a.gateKey, runId: a.runId, waiverId: a.waiverId }, 'action recorded');
    this.deps.onRecorded?.();
    return { status: 'done', message: `${done} by ${a.who}`, action: a };
  }
}
