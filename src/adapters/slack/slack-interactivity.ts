/**
 * Slack's interactivity endpoint on the daemon's port (POST /slack/actions): the clicks on the
 * notices' buttons and the Waive modal's submissions. Each request is verified with the app's
 * signing secret (Slack's v0 signature over the raw body, its timestamp within 5 minutes, a
 * replayed signature refused), answered at once (Slack waits 3 s), and acted on afterwards
 * through Actions, which checks the product's approvers, records the action once by the button's
 * own identity (a double click acts once) and says it in the event's thread. The clicking user
 * hears how it went through the click's response_url, which only they see.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describeError } from '../../errors';
import { ACTION_PREFIX, type ButtonValue } from '../../listener/effects/notices';
import { gateKey } from '../../listener/gate/gate-keeper';
import { slackEscape } from '../../listener/intake/sanitize';
import type { ActionRequest, ActionResult, Actor } from '../../listener/people/actions';
import type { Clock, Logger } from '../../listener/ports';
import type { HttpRoute, RouteReply, RouteRequest } from '../bus/http-intake';
import type { SlackPeopleApi } from './slack-people-api';
import {
  type BlockActionsPayload, type SlackButtonAction, type SlackUserRef, type ViewSubmissionPayload, interactionWire, parseInteraction,
} from './slack-interaction-wire';

export const INTERACTIVITY_PATH = '/slack/actions';
/** Slack's bound on a request's age, and so how long a signature is remembered against replays. */
const MAX_SKEW_S = 300;
const WAIVE_CALLBACK = 'cvp.waive';
const REASON_BLOCK = 'cvp.reason';

export interface SlackInteractivityOptions {
  signingSecret: string;
  actions: { act(req: ActionRequest, actor: Actor): Promise<ActionResult> };
  api: SlackPeopleApi;
  /** Whether a Slack user may act on a product (asked before the Waive modal opens; Actions asks again). */
  allows: (product: string, userId: string) => Promise<boolean>;
  clock: Clock;
  log: Logger;
  onUnauthorized?: (path: string) => void;
  /** How long the approvers may take to answer before the Waive modal opens anyway (its trigger lasts 3 s). */
  precheckMs?: number;
}

/** Slack's v0 signature of a request; null when it holds, else why not. */
export function slackSignatureProblem(secret: string, timestamp: string | undefined, signature: string | undefined, body: string, nowMs: number): string | null {
  if (!timestamp || !signature) return 'X-Slack-Request-Timestamp and X-Slack-Signature are required';
  if (!/^\d{1,12}$/.test(timestamp)) return 'X-Slack-Request-Timestamp is not a number of seconds';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SKEW_S) return 'X-Slack-Request-Timestamp is more than 5 minutes off: a stale or replayed request';
  if (!signature.startsWith('v0=')) return 'X-Slack-Signature is not a v0 signature';
  const expected = Buffer.from(createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex'));
  const given = Buffer.from(signature.slice(3));
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : 'X-Slack-Signature does not match the body (wrong signing secret, or the body was altered)';
}

/** `slack:U0123 (ada)`: how the journal and the thread name a Slack user. */
export function slackActorName(user: SlackUserRef): string {
  const name = user.username ?? user.name;
  return `slack:${user.id}${name ? ` (${name})` : ''}`;
}

/** The Slack user id in an actor's name, if it is a Slack user's. */
export function slackUserId(who: string): string | null {
  return /^slack:([UW][A-Z0-9]+)/.exec(who)?.[1] ?? null;
}

interface WaiveMetadata {
  v: Extract<ButtonValue, { k: 'waive' }>;
  /** The button's identity: the waiver is recorded once per button, however many modals it opened. */
  id: string;
  r?: string;
}

const text = (status: number, body = ''): RouteReply => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });

export class SlackInteractivity {
  private readonly seen = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: SlackInteractivityOptions) {}

  route(): HttpRoute {
    return { method: 'POST', path: INTERACTIVITY_PATH, auth: 'own', handle: (req) => this.handle(req) };
  }

  /** A source of the daemon's, so that its stop waits for the clicks being acted on before the journal closes. */
  async start(): Promise<void> { /* nothing to start: the intake serves the route */ }

  async stop(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Work under way (tests wait for it). */
  idle(): Promise<void> {
    return this.stop();
  }

  async handle(req: RouteRequest): Promise<RouteReply> {
    const now = this.opts.clock.now();
    const timestamp = req.headers['x-slack-request-timestamp'] as string | undefined;
    const signature = req.headers['x-slack-signature'] as string | undefined;
    const problem = slackSignatureProblem(this.opts.signingSecret, timestamp, signature, req.body, now);
    if (problem) return this.refuse(problem);
    this.forget(now);
    if (this.seen.has(signature!)) return this.refuse('this signed request was received before: a replay');
    this.seen.set(signature!, Number(timestamp) * 1000);
    const parsed = parseInteraction(req.body);
    if ('problem' in parsed) {
      this.opts.log.warn({ path: INTERACTIVITY_PATH, problem: parsed.problem }, 'Slack interaction refused');
      return text(400, `${parsed.problem}\n`);
    }
    const payload = parsed.ok;
    if (payload.type === 'block_actions') return this.clicked(payload);
    if (payload.type === 'view_submission') return this.submitted(payload);
    return text(200);
  }

  private refuse(why: string): RouteReply {
    this.opts.log.warn({ path: INTERACTIVITY_PATH, why }, 'Slack interaction refused: not verified');
    this.opts.onUnauthorized?.(INTERACTIVITY_PATH);
    return text(401, `${why}\n`);
  }

  /** Signatures older than Slack's 5 minutes are refused anyway: no need to remember them. */
  private forget(now: number): void {
    for (const [sig, at] of this.seen) if (now - at > MAX_SKEW_S * 1000 * 2) this.seen.delete(sig);
  }

  private clicked(p: BlockActionsPayload): RouteReply {
    for (const action of p.actions) {
      if (!action.action_id.startsWith(ACTION_PREFIX)) continue;
      const value = this.valueOf(action);
      if (!value) {
        this.later(p.response_url, async () => ':warning: This button carries nothing CVP can read; use the cvp command instead.');
        continue;
      }
      const id = buttonId(p, action);
      const actor: Actor = { who: slackActorName(p.user), via: 'slack', id };
      if (value.k === 'waive') this.openWaiver(p, value, id);
      else this.later(p.response_url, () => this.act(requestOf(value), actor));
    }
    return text(200);
  }

  private valueOf(action: SlackButtonAction): ButtonValue | null {
    try {
      const checked = interactionWire('button_value', JSON.parse(action.value ?? ''));
      return 'ok' in checked ? checked.ok : null;
    } catch {
      return null;
    }
  }

  /** The Waive modal, opened at once (its trigger lasts 3 s), unless the user surely may not waive. */
  private openWaiver(p: BlockActionsPayload, value: Extract<ButtonValue, { k: 'waive' }>, id: string): void {
    this.later(p.response_url, async () => {
      const allowed = await Promise.race([
        this.opts.allows(value.p, p.user.id).catch(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(true), this.opts.precheckMs ?? 1_500).unref()),
      ]);
      if (!allowed) return `:no_entry: ${slackActorName(p.user)} may not act on ${value.p}: ask one of its approvers`;
      const meta: WaiveMetadata = { v: value, id, ...(p.response_url ? { r: p.response_url } : {}) };
      let metadata = JSON.stringify(meta);
      if (metadata.length > 3000) metadata = JSON.stringify({ v: value, id });
      try {
        await this.opts.api.openView(p.trigger_id, waiveModal(value, metadata));
        return null;
      } catch (err) {
        return `:warning: CVP could not open the waiver form (${describeError(err)}); \`cvp waive\` does the same from a terminal`;
      }
    });
  }

  private submitted(p: ViewSubmissionPayload): RouteReply {
    if (p.view.callback_id !== WAIVE_CALLBACK) return text(200);
    let meta: WaiveMetadata;
    try {
      meta = JSON.parse(p.view.private_metadata) as WaiveMetadata;
      const checked = interactionWire('button_value', meta.v);
      if ('problem' in checked || meta.v.k !== 'waive' || typeof meta.id !== 'string') throw new Error(`private_metadata ${'problem' in checked ? checked.problem : 'is not a waiver'}`);
    } catch (err) {
      this.opts.log.warn({ path: INTERACTIVITY_PATH, err: describeError(err) }, 'Slack waiver submission refused');
      return text(400, 'this form is not one CVP opened\n');
    }
    const reason = (p.view.state.values[REASON_BLOCK]?.[REASON_BLOCK]?.value ?? '').trim();
    if (!reason) {
      return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ response_action: 'errors', errors: { [REASON_BLOCK]: 'A waiver needs a reason: say why this failure may be accepted' } }) };
    }
    const v = meta.v;
    const actor: Actor = { who: slackActorName(p.user), via: 'slack', id: meta.id };
    this.later(meta.r, () => this.act({ kind: 'waive', gateKey: gateKey(v.p, v.t, v.a), item: v.i, type: v.y, testcase: v.c, scenario: v.s ?? null, reason }, actor));
    return text(200);
  }

  private async act(req: ActionRequest, actor: Actor): Promise<string> {
    const result = await this.opts.actions.act(req, actor);
    const icon = result.status === 'done' ? ':white_check_mark:' : result.status === 'duplicate' ? ':information_source:' : ':no_entry:';
    return `${icon} ${slackEscape(result.message, 1000)}`;
  }

  /** Work after the answer; what it says (if anything) goes to the clicking user only. */
  private later(responseUrl: string | undefined, work: () => Promise<string | null>): void {
    const p = (async () => {
      let said: string | null;
      try {
        said = await work();
      } catch (err) {
        this.opts.log.error({ path: INTERACTIVITY_PATH, err: describeError(err) }, 'Slack action failed');
        said = `:warning: CVP could not do this now (${slackEscape(describeError(err), 500)}); try again, or use the cvp command`;
      }
      if (said && responseUrl) {
        await this.opts.api.respond(responseUrl, said).catch((err: unknown) => this.opts.log.warn({ err: describeError(err) }, 'could not tell the Slack user how their click went'));
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}

/**
 * A button's identity, the action's idempotency key: the message it is on and its action id. A
 * double click (two payloads, two trigger ids) is the same button, so it acts once.
 */
function buttonId(p: BlockActionsPayload, action: SlackButtonAction): string {
  const channel = p.container.channel_id ?? p.channel?.id ?? '';
  const ts = p.container.message_ts ?? p.message?.ts;
  return ts ? `slack:${channel}:${ts}:${action.action_id}` : `slack:${p.trigger_id}:${action.action_id}`;
}

function requestOf(v: Exclude<ButtonValue, { k: 'waive' }>): ActionRequest {
  if (v.k === 'rerun') return { kind: 'rerun', runId: v.r };
  if (v.k === 'revoke') return { kind: 'revoke', waiverId: v.w };
  return { kind: v.k, gateKey: gateKey(v.p, v.t, v.a) };
}

function waiveModal(v: Extract<ButtonValue, { k: 'waive' }>, metadata: string): object {
  const what = `*${slackEscape(v.c)}* on *${slackEscape(v.i)}*${v.s ? ` (${slackEscape(v.s)})` : ''}`;
  return {
    type: 'modal',
    callback_id: WAIVE_CALLBACK,
    title: { type: 'plain_text', text: 'Waive a result' },
    submit: { type: 'plain_text', text: 'Waive' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: metadata,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Waive ${what} in the gate of *${slackEscape(v.p)}* ${slackEscape(v.a)}: the gate counts it as passing until the waiver is revoked.` } },
      {
        type: 'input', block_id: REASON_BLOCK,
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: REASON_BLOCK, multiline: true, max_length: 1000, placeholder: { type: 'plain_text', text: 'Why this failure may be accepted' } },
      },
    ],
  };
}
