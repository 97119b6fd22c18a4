import type { Run } from './journal';
import type { Notice } from './ports';
import { slackEscape } from './sanitize';

export interface NoticeOptions {
  advisoryUrl?: string;
  channel?: string;
}

const ICON: Record<string, string> = { PASSED: ':white_check_mark:', FAILED: ':x:', ERROR: ':warning:', NEEDS_INSPECTION: ':mag:', INFO: ':information_source:' };

function subject(run: Run): string {
  const c = run.context;
  const what = c.component ? slackEscape(c.component) : slackEscape(c.artifactType);
  return `${what} ${slackEscape(c.artifactType)} ${slackEscape(c.artifactId)}`;
}

function advisoryLink(run: Run, opts: NoticeOptions): { mrkdwn: string; text: string } | null {
  const id = run.context.advisory;
  if (!id) return null;
  if (!opts.advisoryUrl) return { mrkdwn: `advisory ${slackEscape(id)}`, text: `advisory ${id}` };
  const url = opts.advisoryUrl.replace('{id}', encodeURIComponent(id));
  return { mrkdwn: `<${url}|advisory ${slackEscape(id)}>`, text: `advisory ${id} ${url}` };
}

function linkLine(run: Run, buildUrl: string | undefined, opts: NoticeOptions): { mrkdwn: string; text: string } {
  const parts: string[] = [];
  const text: string[] = [];
  if (buildUrl) { parts.push(`<${buildUrl}|build>`); text.push(`build ${buildUrl}`); }
  const adv = advisoryLink(run, opts);
  if (adv) { parts.push(adv.mrkdwn); text.push(adv.text); }
  parts.push(`run \`${run.id}\``);
  text.push(`run ${run.id}`);
  return { mrkdwn: parts.join(' · '), text: text.join(', ') };
}

export function startNotice(run: Run, buildUrl: string | undefined, opts: NoticeOptions): Notice {
  const images = run.context.images.map((i) => slackEscape(i.nvr || i.name)).join(', ');
  const links = linkLine(run, buildUrl, opts);
  const head = `:arrow_forward: *${slackEscape(run.job)}* started for ${subject(run)}`;
  return {
    channel: opts.channel,
    text: `${run.job} started for ${run.context.component ?? run.context.artifactType} ${run.context.artifactId} (${links.text})`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      ...(images ? [{ type: 'section', text: { type: 'mrkdwn', text: `Images: ${images}` } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: links.mrkdwn }] },
    ],
  };
}

export function outcomeNotice(run: Run, outcome: string, buildUrl: string | undefined, reason: string | null, opts: NoticeOptions): Notice {
  const links = linkLine(run, buildUrl, opts);
  const icon = ICON[outcome] ?? ':grey_question:';
  const why = reason ? ` (${slackEscape(reason)})` : '';
  return {
    channel: opts.channel,
    text: `${run.job} ${outcome} for ${run.context.component ?? run.context.artifactType} ${run.context.artifactId}${reason ? ` (${reason})` : ''} (${links.text})`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${slackEscape(run.job)}*: *${outcome}* for ${subject(run)}${why}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: links.mrkdwn }] },
    ],
  };
}
