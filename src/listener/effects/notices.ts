import type { GateReason, Run, RunContext } from '../domain';
import type { Notice } from '../ports';
import { slackEscape } from '../intake/sanitize';

export interface NoticeOptions {
  advisoryUrl?: string;
  channel?: string;
}

const ICON: Record<string, string> = { PASSED: ':white_check_mark:', FAILED: ':x:', ERROR: ':warning:', NEEDS_INSPECTION: ':mag:', INFO: ':information_source:' };

function subject(c: RunContext): { mrkdwn: string; text: string } {
  const what = c.component ?? c.artifactType;
  return { mrkdwn: `${slackEscape(what)} ${slackEscape(c.artifactType)} ${slackEscape(c.artifactId)}`, text: `${what} ${c.artifactType} ${c.artifactId}` };
}

function advisoryLink(c: RunContext, opts: NoticeOptions): { mrkdwn: string; text: string } | null {
  const id = c.advisory;
  if (!id) return null;
  if (!opts.advisoryUrl) return { mrkdwn: `advisory ${slackEscape(id)}`, text: `advisory ${id}` };
  const url = opts.advisoryUrl.replace('{id}', encodeURIComponent(id));
  return { mrkdwn: `<${url}|advisory ${slackEscape(id)}>`, text: `advisory ${id} ${url}` };
}

function links(c: RunContext, buildUrl: string | undefined, runId: string | undefined, opts: NoticeOptions): { mrkdwn: string; text: string } {
  const parts: string[] = [];
  const text: string[] = [];
  if (buildUrl) { parts.push(`<${buildUrl}|build>`); text.push(`build ${buildUrl}`); }
  const adv = advisoryLink(c, opts);
  if (adv) { parts.push(adv.mrkdwn); text.push(adv.text); }
  if (runId) { parts.push(`run \`${runId}\``); text.push(`run ${runId}`); }
  return { mrkdwn: parts.join(' · '), text: text.join(', ') };
}

function notice(channel: string | undefined, text: string, head: string, extra: string[], context: string): Notice {
  return {
    channel,
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      ...extra.map((e) => ({ type: 'section', text: { type: 'mrkdwn', text: e } })),
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}

/** The first notice of an event's thread: what was rebuilt and which jobs run. */
export function eventNotice(run: Run, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const c = run.context;
  const s = subject(c);
  const images = c.images.map((i) => i.nvr || i.name);
  const jobs = c.jobs?.length ? c.jobs : [run.job];
  const l = links(c, buildUrl, run.id, opts);
  return notice(run.channel ?? opts.channel,
    `Rebuilt: ${s.text}${images.length ? ` (${images.join(', ')})` : ''}; testing with ${jobs.join(', ')}; ${run.job} started (${l.text})`,
    `:package: *Rebuilt:* ${s.mrkdwn}`,
    [
      ...(images.length ? [`Images: ${images.map((i) => slackEscape(i)).join(', ')}`] : []),
      `Jobs: ${jobs.map((j) => `*${slackEscape(j)}*`).join(', ')}; :arrow_forward: *${slackEscape(run.job)}* started`,
    ],
    l.mrkdwn);
}

/** A reply: another of the event's runs started. */
export function runStartNotice(run: Run, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const l = links(run.context, buildUrl, run.id, opts);
  return notice(run.channel ?? opts.channel, `${run.job} started for ${subject(run.context).text} (${l.text})`,
    `:arrow_forward: *${slackEscape(run.job)}* started for ${subject(run.context).mrkdwn}`, [], l.mrkdwn);
}

export function outcomeNotice(run: Run, outcome: string, buildUrl: string | undefined, reason: string | null, opts: NoticeOptions): Notice {
  const l = links(run.context, buildUrl, run.id, opts);
  const s = subject(run.context);
  const why = reason ? ` (${slackEscape(reason)})` : '';
  return notice(run.channel ?? opts.channel,
    `${run.job} ${outcome} for ${s.text}${reason ? ` (${reason})` : ''} (${l.text})`,
    `${ICON[outcome] ?? ':grey_question:'} *${slackEscape(run.job)}*: *${outcome}* for ${s.mrkdwn}${why}`, [], l.mrkdwn);
}

/** A reply: a newer event for the same artifact took this run's place. */
export function supersededNotice(run: Run, by: string, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const l = links(run.context, buildUrl, run.id, opts);
  const s = subject(run.context);
  return notice(run.channel ?? opts.channel,
    `${run.job} superseded for ${s.text}: a newer event for the same artifact runs instead (run ${by}); no verdict is recorded for this one (${l.text})`,
    `:fast_forward: *${slackEscape(run.job)}* superseded for ${s.mrkdwn}: a newer event for the same artifact runs instead (run \`${slackEscape(by)}\`); no verdict is recorded for this one`,
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
  const lines = d.reasons.slice(0, 20).map((r) => `• ${slackEscape(r.testcase)} on ${slackEscape(r.item)}: ${r.outcome}${r.ref_url ? ` <${r.ref_url}|results>` : ''}${r.why ? ` (${slackEscape(r.why)})` : ''}`);
  const ask = d.mode === 'off' && d.decision === 'pass' ? ' Please review and release the advisory if you agree.' : '';
  const action = d.simulated && d.decision === 'pass'
    ? 'Simulated event: CVP would have released this; nothing was released, whatever the knob says.'
    : `${ACTION_TEXT[d.action] ?? d.action}.${ask}`;
  return notice(d.channel ?? opts.channel,
    `Gate ${d.changed ? 'changed to ' : ''}${verdict} for ${d.product}: ${s.text}. ${action} (${l.text}) Reasons: ${d.reasons.map((r) => `${r.testcase} ${r.item} ${r.outcome}`).join('; ')}`,
    `${icon} *Gate ${d.changed ? 'changed to ' : ''}${verdict}* for *${slackEscape(d.product)}*: ${s.mrkdwn}`,
    [lines.join('\n') || 'No results.', action],
    l.mrkdwn || ' ');
}

/** Slack's limits: a section's text, the blocks of one message, the top-level text. */
const SECTION_MAX = 3000;
const BLOCKS_MAX = 50;
const TEXT_MAX = 3000;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A notice Slack refused for its size, shorter: level 1 keeps the blocks but cuts each text and
 * their number; level 2 is the plain text alone, cut; beyond that there is nothing left to cut.
 */
export function shortenNotice(notice: Notice, level: number): Notice | null {
  if (level === 1) {
    const blocks = notice.blocks.slice(0, BLOCKS_MAX - 5).map((b) => {
      const block = b as { type?: string; text?: { type: string; text: string }; elements?: Array<{ type: string; text?: string }> };
      if (block.text) return { ...block, text: { ...block.text, text: cut(block.text.text, SECTION_MAX / 2) } };
      if (block.elements) return { ...block, elements: block.elements.slice(0, 10).map((e) => (e.text ? { ...e, text: cut(e.text, 1000) } : e)) };
      return block;
    });
    return { ...notice, text: cut(notice.text, TEXT_MAX), blocks };
  }
  if (level === 2) return { ...notice, text: cut(notice.text, TEXT_MAX / 2), blocks: [] };
  return null;
}

export interface ActionNoticeInput {
  context: RunContext;
  channel?: string;
  /** What was done, in words: "released Ansible Tower group-123". */
  what: string;
  who: string;
  at: number;
}

/** A person acted (from Slack or the CLI): who, what, when, in the event's thread. */
export function actionNotice(a: ActionNoticeInput, opts: NoticeOptions): Notice {
  const when = new Date(a.at).toISOString().replace('T', ' ').slice(0, 19);
  return notice(a.channel ?? opts.channel, `${a.who} ${a.what} (${when} UTC)`, `:bust_in_silhouette: *${slackEscape(a.who)}* ${slackEscape(a.what, 1500)}`, [],
    `${when} UTC`);
}
