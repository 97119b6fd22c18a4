import type { GateReason, Run, RunContext } from '../domain';
import type { Notice } from '../ports';
import { cutSlackText, slackEscape, slackLink } from '../intake/sanitize';

export interface NoticeOptions {
  advisoryUrl?: string;
  channel?: string;
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
  return notice(run.channel ?? opts.channel,
    `${job} ${what} for ${s}${why} (${l.text})`,
    `${(Object.hasOwn(ICON, outcome) ? ICON[outcome] : undefined) ?? ':grey_question:'} *${job}*: *${what}* for ${s}${why}`, [], l.mrkdwn);
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
  const action = `${Object.hasOwn(ACTION_TEXT, d.action) ? ACTION_TEXT[d.action] : slackEscape(d.action, 100)}.${ask}`;
  const plainReasons = d.reasons.map((r) => `${slackEscape(r.testcase)} ${slackEscape(r.item)} ${slackEscape(r.outcome, 50)}`);
  return notice(d.channel ?? opts.channel,
    `Gate ${d.changed ? 'changed to ' : ''}${verdict} for ${product}: ${s}. ${action} (${l.text}) Reasons: ${fitList(plainReasons, 1500, '; ')}`,
    `${icon} *Gate ${d.changed ? 'changed to ' : ''}${verdict}* for *${product}*: ${s}`,
    [fitList(lines, SECTION_MAX - 20, '\n') || 'No results.', action],
    l.mrkdwn || ' ');
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
}

/** A person acted (from Slack or the CLI): who, what, when, in the event's thread. */
export function actionNotice(a: ActionNoticeInput, opts: NoticeOptions): Notice {
  const when = Number.isFinite(a.at) && Math.abs(a.at) < 8.64e15 ? new Date(a.at).toISOString().replace('T', ' ').slice(0, 19) : 'at an unknown time';
  const who = slackEscape(a.who);
  const what = slackEscape(a.what, 1500);
  return notice(a.channel ?? opts.channel, `${who} ${what} (${when} UTC)`, `:bust_in_silhouette: *${who}* ${what}`, [], `${when} UTC`);
}
