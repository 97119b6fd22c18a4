import type { GateReason, Run, RunContext } from '../domain';
import type { Notice } from '../ports';
import { cutSlackText, slackEscape, slackLink } from '../intake/sanitize';

export interface NoticeOptions {
  advisoryUrl?: string;
  channel?: string;
  /** Slack can send CVP the clicks (its signing secret is configured): notices carry buttons. */
  interactive?: boolean;
}

/**
 * Slack's limits: a section's (or a context element's) text, the blocks of one message. The
 * top-level `text` may be 40,000 characters; it is what notifications and screen readers show, so
 * it is kept to a readable length.
 */
export const SECTION_MAX = 3000;
export const BLOCKS_MAX = 50;
export const TEXT_MAX = 3000;

const ICON: Record<string, string> = { PASSED: ':white_check_mark:', FAILED: ':x:', ERROR: ':warning:', NEEDS_INSPECTION: ':mag:', INFO: ':information_source:' };

/*
 * Every piece of event or peer data goes through slackEscape (or slackLink) once, and both the
 * blocks and the top-level `text` are made of the escaped pieces: Slack parses `text` as it parses
 * blocks, so an unescaped `<!channel>` there would notify the whole channel.
 */

function subject(c: RunContext): string {
  return `${slackEscape(c.component ?? c.artifactType)} ${slackEscape(c.artifactType)} ${slackEscape(c.artifactId)}`;
}

function links(c: RunContext, buildUrl: string | undefined, runId: string | undefined, opts: NoticeOptions): { mrkdwn: string; text: string } {
  const parts: string[] = [];
  const text: string[] = [];
  if (buildUrl) { parts.push(slackLink(buildUrl, 'build')); text.push(`build ${slackEscape(buildUrl, 500)}`); }
  if (c.advisory) {
    const id = slackEscape(c.advisory, 100);
    if (!opts.advisoryUrl) { parts.push(`advisory ${id}`); text.push(`advisory ${id}`); } else {
      const url = opts.advisoryUrl.replace('{id}', encodeURIComponent(c.advisory.slice(0, 100)));
      parts.push(slackLink(url, `advisory ${c.advisory.slice(0, 100)}`));
      text.push(`advisory ${id} ${slackEscape(url, 500)}`);
    }
  }
  if (runId) { parts.push(`run \`${slackEscape(runId, 100)}\``); text.push(`run ${slackEscape(runId, 100)}`); }
  return { mrkdwn: parts.join(' · '), text: text.join(', ') };
}

/**
 * Escaped items joined with `separator` while they fit in `budget` characters; the rest are
 * counted: "a, b, c and 37 more".
 */
export function fitList(items: string[], budget: number, separator = ', '): string {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    const rest = items.length - i - 1;
    const tail = rest > 0 ? ` and ${rest} more`.length : 0;
    const cost = (out.length ? separator.length : 0) + items[i].length;
    if (used + cost + tail > budget) {
      const more = items.length - out.length;
      return `${out.join(separator)}${out.length ? ' and' : ''} ${more} more`.trim();
    }
    out.push(items[i]);
    used += cost;
  }
  return out.join(separator);
}

function section(text: string): { type: 'section'; text: { type: 'mrkdwn'; text: string } } {
  return { type: 'section', text: { type: 'mrkdwn', text: cutSlackText(text || ' ', SECTION_MAX) } };
}

function notice(channel: string | undefined, text: string, head: string, extra: string[], context: string): Notice {
  return {
    channel,
    text: cutSlackText(text, TEXT_MAX),
    blocks: [
      section(head),
      ...extra.slice(0, BLOCKS_MAX - 2).map(section),
      { type: 'context', elements: [{ type: 'mrkdwn', text: cutSlackText(context || ' ', SECTION_MAX) }] },
    ],
  };
}

/** The first notice of an event's thread: what was rebuilt and which jobs run. */
export function eventNotice(run: Run, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const c = run.context;
  const s = subject(c);
  const images = c.images.map((i) => slackEscape(i.nvr || i.name));
  const jobs = (c.jobs?.length ? c.jobs : [run.job]).map((j) => slackEscape(j));
  const job = slackEscape(run.job);
  const l = links(c, buildUrl, run.id, opts);
  const jobsLine = `Jobs: ${fitList(jobs.map((j) => `*${j}*`), SECTION_MAX - 600)}; :arrow_forward: *${job}* started`;
  return notice(run.channel ?? opts.channel,
    `Rebuilt: ${s}${images.length ? ` (${fitList(images, 1000)})` : ''}; testing with ${fitList(jobs, 500)}; ${job} started (${l.text})`,
    `:package: *Rebuilt:* ${s}`,
    [...(images.length ? [`Images: ${fitList(images, SECTION_MAX - 20)}`] : []), jobsLine],
    l.mrkdwn);
}

/** A reply: another of the event's runs started. */
export function runStartNotice(run: Run, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const l = links(run.context, buildUrl, run.id, opts);
  const s = subject(run.context);
  const job = slackEscape(run.job);
  return notice(run.channel ?? opts.channel, `${job} started for ${s} (${l.text})`, `:arrow_forward: *${job}* started for ${s}`, [], l.mrkdwn);
}

export function outcomeNotice(run: Run, outcome: string, buildUrl: string | undefined, reason: string | null, opts: NoticeOptions): Notice {
  const l = links(run.context, buildUrl, run.id, opts);
  const s = subject(run.context);
  const job = slackEscape(run.job);
  const what = slackEscape(outcome, 50);
  const why = reason ? ` (${slackEscape(reason, 1000)})` : '';
  return withBlocks(notice(run.channel ?? opts.channel,
    `${job} ${what} for ${s}${why} (${l.text})`,
    `${(Object.hasOwn(ICON, outcome) ? ICON[outcome] : undefined) ?? ':grey_question:'} *${job}*: *${what}* for ${s}${why}`, [], l.mrkdwn), runButtons(run, outcome, opts));
}

/** A reply: a newer event for the same artifact took this run's place. */
export function supersededNotice(run: Run, by: string, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const l = links(run.context, buildUrl, run.id, opts);
  const s = subject(run.context);
  const job = slackEscape(run.job);
  const other = slackEscape(by, 100);
  return notice(run.channel ?? opts.channel,
    `${job} superseded for ${s}: a newer event for the same artifact runs instead (run ${other}); no verdict is recorded for this one (${l.text})`,
    `:fast_forward: *${job}* superseded for ${s}: a newer event for the same artifact runs instead (run \`${other}\`); no verdict is recorded for this one`,
    [], l.mrkdwn);
}

export interface DecisionNoticeInput {
  context: RunContext;
  product: string;
  decision: 'pass' | 'fail';
  mode: 'off' | 'shadow' | 'on';
  action: string;
  reasons: GateReason[];
  channel?: string;
  changed: boolean;
  /** A tester's simulated event: never released, whatever the knob says. */
  simulated?: boolean;
}

const ACTION_TEXT: Record<string, string> = {
  asked: 'Auto-release is off: a person decides whether to release',
  would_release: 'Shadow mode: CVP would have released this; nothing was released',
  released: 'Auto-release is on: the release action was carried out',
  none: 'Nothing to release',
  already_released: 'It was released already; this changes nothing that was done',
};

/** The gate's decision, as a reply in the event's thread; `off` asks a person. */
export function decisionNotice(d: DecisionNoticeInput, opts: NoticeOptions): Notice {
  const s = subject(d.context);
  const l = links(d.context, undefined, undefined, opts);
  const verdict = d.decision === 'pass' ? 'PASSED' : 'FAILED';
  const icon = d.decision === 'pass' ? ':white_check_mark:' : ':no_entry:';
  const product = slackEscape(d.product);
  // One line per reason, each cut to a share of the section, so that a few long ones leave room for the others.
  const lines = d.reasons.map((r) => cutSlackText(`• ${slackEscape(r.testcase)} on ${slackEscape(r.item)}: ${slackEscape(r.outcome, 50)}${r.ref_url ? ` ${slackLink(r.ref_url, 'results')}` : ''}${r.why ? ` (${slackEscape(r.why)})` : ''}`, 500));
  const ask = d.mode === 'off' && d.decision === 'pass' ? ' Please review and release the advisory if you agree.' : '';
  const action = d.simulated && d.decision === 'pass'
    ? 'Simulated event: CVP would have released this; nothing was released, whatever the knob says.'
    : `${Object.hasOwn(ACTION_TEXT, d.action) ? ACTION_TEXT[d.action] : slackEscape(d.action, 100)}.${ask}`;
  const plainReasons = d.reasons.map((r) => `${slackEscape(r.testcase)} ${slackEscape(r.item)} ${slackEscape(r.outcome, 50)}`);
  return withBlocks(notice(d.channel ?? opts.channel,
    `Gate ${d.changed ? 'changed to ' : ''}${verdict} for ${product}: ${s}. ${action} (${l.text}) Reasons: ${fitList(plainReasons, 1500, '; ')}`,
    `${icon} *Gate ${d.changed ? 'changed to ' : ''}${verdict}* for *${product}*: ${s}`,
    [fitList(lines, SECTION_MAX - 20, '\n') || 'No results.', action],
    l.mrkdwn || ' '), peopleDecisionBlocks(d, opts));
}

/**
 * A notice Slack refused for its size, shorter: level 1 keeps the blocks but cuts each text and
 * their number; level 2 is the plain text alone, cut; beyond that there is nothing left to cut.
 */
export function shortenNotice(notice: Notice, level: number): Notice | null {
  if (level === 1) {
    const blocks = notice.blocks.slice(0, BLOCKS_MAX - 5).map((b) => {
      const block = b as { type?: string; text?: { type: string; text: string }; elements?: Array<{ type: string; text?: string }> };
      if (block.text) return { ...block, text: { ...block.text, text: cutSlackText(block.text.text, SECTION_MAX / 2) } };
      if (block.elements) return { ...block, elements: block.elements.slice(0, 10).map((e) => (e.text ? { ...e, text: cutSlackText(e.text, 1000) } : e)) };
      return block;
    });
    return { ...notice, text: cutSlackText(notice.text, TEXT_MAX), blocks };
  }
  if (level === 2) return { ...notice, text: cutSlackText(notice.text, TEXT_MAX / 2), blocks: [] };
  return null;
}

export interface ActionNoticeInput {
  context: RunContext;
  channel?: string;
  /** What was done, in words: "released Ansible Tower group-123". */
  what: string;
  who: string;
  at: number;
  /** A waiver given: its notice carries a Revoke button. */
  waiverId?: string;
}

/** A person acted (from Slack or the CLI): who, what, when, in the event's thread. */
export function actionNotice(a: ActionNoticeInput, opts: NoticeOptions): Notice {
  const when = Number.isFinite(a.at) && Math.abs(a.at) < 8.64e15 ? new Date(a.at).toISOString().replace('T', ' ').slice(0, 19) : 'at an unknown time';
  const who = slackEscape(a.who);
  const what = slackEscape(a.what, 1500);
  return withBlocks(notice(a.channel ?? opts.channel, `${who} ${what} (${when} UTC)`, `:bust_in_silhouette: *${who}* ${what}`, [], `${when} UTC`),
    a.waiverId ? waiverButtons(a.waiverId, opts) : []);
}

/*
 * People in the loop: buttons on the notices (only when Slack's signing secret is configured, so
 * that their clicks can be verified), waivers shown, and the watchdog's notices.
 */

/** What a button asks for; its JSON is the button's `value` (at most 2,000 characters). */
export type ButtonValue =
  | { k: 'release' | 'hold'; p: string; t: string; a: string }
  | { k: 'waive'; p: string; t: string; a: string; i: string; y: string; c: string; s?: string }
  | { k: 'rerun'; r: string }
  | { k: 'revoke'; w: string };

/** Every button's action_id starts with this: a click on anything else is not CVP's. */
export const ACTION_PREFIX = 'cvp.';
const VALUE_MAX = 2000;
const BUTTON_TEXT_MAX = 75;

function plain(text: string, max: number): { type: 'plain_text'; text: string; emoji: boolean } {
  return { type: 'plain_text', text: text.length > max ? `${text.slice(0, max - 1)}…` : text, emoji: true };
}

/** A button, or nothing when its value would be too long for Slack. */
function button(actionId: string, text: string, value: ButtonValue, style?: 'primary' | 'danger', confirm?: { title: string; text: string; yes: string }): object | null {
  const v = JSON.stringify(value);
  if (v.length > VALUE_MAX) return null;
  return {
    type: 'button', action_id: `${ACTION_PREFIX}${actionId}`, text: plain(text, BUTTON_TEXT_MAX), value: v, ...(style ? { style } : {}),
    ...(confirm ? { confirm: { title: plain(confirm.title, 100), text: { type: 'plain_text', text: confirm.text.slice(0, 300) }, confirm: plain(confirm.yes, 30), deny: plain('Cancel', 30) } } : {}),
  };
}

function actionsBlock(blockId: string, elements: Array<object | null>): object[] {
  const present = elements.filter((e): e is object => e !== null).slice(0, 25);
  return present.length ? [{ type: 'actions', block_id: blockId, elements: present }] : [];
}

/** A notice with blocks added before its context line (the last block). */
export function withBlocks(n: Notice, blocks: object[]): Notice {
  if (!blocks.length) return n;
  const last = n.blocks.length - 1;
  return { ...n, blocks: [...n.blocks.slice(0, last), ...blocks, ...n.blocks.slice(last)] };
}

/** The waived reasons of a decision: who accepted which failing result, and why. */
export function waivedBlocks(reasons: GateReason[]): object[] {
  const waived = reasons.filter((r) => r.waived_by !== undefined).slice(0, 20);
  if (!waived.length) return [];
  const lines = waived.map((r) => cutSlackText(`• ${slackEscape(r.testcase)} on ${slackEscape(r.item)}${r.scenario ? ` (${slackEscape(r.scenario)})` : ''}: ${slackEscape(r.outcome, 50)}, waived by ${slackEscape(r.waived_by ?? '')}${r.waiver_reason ? `: ${slackEscape(r.waiver_reason, 500)}` : ''}`, 500));
  return [section(`:memo: *Waived*\n${fitList(lines, SECTION_MAX - 40, '\n')}`)];
}

/**
 * The decision's buttons: Release and Hold when a person decides (`off`) and the gate passed;
 * Waive on each failing result that no waiver covers.
 */
export function decisionButtons(d: DecisionNoticeInput): object[] {
  const c = d.context;
  const gate = { p: d.product, t: c.artifactType, a: c.artifactId };
  const blocks: object[] = [];
  if (d.mode === 'off' && d.decision === 'pass') {
    blocks.push(...actionsBlock('cvp.gate', [
      button('release', 'Release', { k: 'release', ...gate }, 'primary',
        { title: 'Release?', text: `Release ${d.product} ${c.artifactId}: CVP carries out the release action and says so in this thread.`, yes: 'Release' }),
      button('hold', 'Hold', { k: 'hold', ...gate }, 'danger'),
    ]));
  }
  const failing = d.reasons.filter((r) => !['PASSED', 'INFO'].includes(r.outcome) && r.waived_by === undefined);
  blocks.push(...actionsBlock('cvp.waive', failing.map((r, i) => button(`waive.${i}`, `Waive ${r.testcase} on ${r.item}`,
    { k: 'waive', ...gate, i: r.item, y: r.type, c: r.testcase, ...(r.scenario ? { s: r.scenario } : {}) }))));
  return blocks;
}

/** The gate's decision with the waived reasons and, when people can act from Slack, its buttons. */
export function peopleDecisionBlocks(d: DecisionNoticeInput, opts: NoticeOptions): object[] {
  return [...waivedBlocks(d.reasons), ...(opts.interactive ? decisionButtons(d) : [])];
}

/** Rerun on a run that failed or errored, when people can act from Slack. */
export function runButtons(run: Run, outcome: string, opts: NoticeOptions): object[] {
  if (!opts.interactive || !['FAILED', 'ERROR'].includes(outcome)) return [];
  return actionsBlock('cvp.run', [button('rerun', `Rerun ${run.job}`, { k: 'rerun', r: run.id }, undefined,
    { title: 'Run it again?', text: `Trigger ${run.job} again for ${run.context.artifactId}; the new run reports as this one did.`, yes: 'Rerun' })]);
}

/** Revoke on the notice of a waiver just given. */
export function waiverButtons(waiverId: string, opts: NoticeOptions): object[] {
  if (!opts.interactive) return [];
  return actionsBlock('cvp.waiver', [button('revoke', 'Revoke waiver', { k: 'revoke', w: waiverId }, 'danger',
    { title: 'Revoke the waiver?', text: 'The gate counts the failing result again and decides anew.', yes: 'Revoke' })]);
}

/** The watchdog raised an alarm, or cleared one (raised at `raisedAt`). */
export function alarmNotice(a: { key: string; raised: boolean; since: number; detail: string }, raisedAt: number | null, channel: string | undefined): Notice {
  const when = new Date(a.since).toISOString().replace('T', ' ').slice(0, 19);
  const head = a.raised ? `:rotating_light: *Watchdog*: ${slackEscape(a.detail, 1500)}` : `:white_check_mark: *Watchdog*: ${slackEscape(a.detail, 1500)}`;
  const ago = !a.raised && raisedAt !== null ? `; the alarm had been raised at ${new Date(raisedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC` : '';
  return notice(channel, `Watchdog: ${slackEscape(a.detail, 1500)} (${when} UTC${ago})`, head, [], `${slackEscape(a.key)} · ${when} UTC${ago}`);
}

