/**
 * The dashboard as one server-rendered HTML page: inline CSS (allowed by its hash in the page's
 * Content-Security-Policy), no script, nothing fetched from elsewhere, every value escaped.
 */
import { createHash } from 'node:crypto';
import type { HumanAction } from '../../listener/domain';
import { describeRatio } from '../../listener/people/agreement';
import { span } from '../../listener/watchdog';
import type { DashboardModel, DecisionRow, EventRow } from './dashboard-data';

const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6475; --line: #dde2ea; --bg: #f6f7f9; --pass: #146c2e; --fail: #b42318; --warn: #9a6700; --info: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header { background: #1d2430; color: #fff; padding: 14px 24px; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .when { color: #c8cfdb; font-size: 13px; }
main { padding: 16px 24px 32px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.PASSED, .pass, .agreed, .cleared { color: var(--pass); }
.FAILED, .fail, .disagreed, .rejected, .raised { color: var(--fail); }
.ERROR, .NEEDS_INSPECTION, .warn { color: var(--warn); }
.running, .queued, .pending, .triggering, .INFO, .not_acted { color: var(--info); }
.ratio { font-size: 28px; font-weight: 700; }
ul.runs, ul.reasons { margin: 0; padding-left: 16px; }
a { color: var(--info); }
.empty { color: var(--muted); font-style: italic; }
`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** The page's policy: its own inline style, nothing else; no script, no frames, no forms. */
export const DASHBOARD_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** HTML text or attribute value. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const when = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

/**
 * A link only to http(s): a build URL from a peer is data, not a place for javascript:. Another
 * URL (the sandbox's file:// logs) is shown as text, to be copied.
 */
function link(url: string | null, label: string): string {
  if (!url) return '';
  return /^https?:\/\//i.test(url) ? `<a href="${esc(url)}" rel="noreferrer noopener">${esc(label)}</a>` : `<span class="muted id">${esc(url)}</span>`;
}

const badge = (value: string | null, cls = value ?? ''): string => `<span class="badge ${esc(cls)}">${esc(value ?? '—')}</span>`;

function table(headers: string[], rows: string[], empty: string): string {
  if (!rows.length) return `<p class="empty">${esc(empty)}</p>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function agreementSection(m: DashboardModel): string {
  const days = Math.round(m.agreementWindowMs / 86_400_000);
  const rows = m.agreement.products.map((p) => `<tr data-product="${esc(p.product)}"><td>${esc(p.product)}</td>`
    + `<td class="num"><span class="ratio">${p.ratio === null ? '—' : `${esc((p.ratio * 100).toFixed(0))}%`}</span></td>`
    + `<td class="num agreed">${p.agreed}</td><td class="num disagreed">${p.disagreed}</td><td class="num not_acted">${p.notActed}</td>`
    + `<td class="muted">${esc(describeRatio(p))}</td></tr>`);
  return `<section id="agreement"><h2>Shadow agreement <span class="muted">(last ${days} days; decisions made in shadow or off)</span></h2>`
    + table(['product', 'agreement', 'agreed', 'disagreed', 'not yet acted', ''], rows, 'No gate decided in shadow or off mode in this window.')
    + '<p class="muted">CVP\'s first decision of each gate against what people then did: release = pass, hold = fail; a failed gate waived and released counts as a disagreement.</p></section>';
}

function watchdogSection(m: DashboardModel): string {
  const w = m.watchdog;
  const alarms = w.alarms.map((a) => `<tr><td>${badge(a.raised ? 'raised' : 'cleared')}</td><td class="id">${esc(a.key)}</td><td>${when(a.since)}</td><td>${esc(a.detail)}</td></tr>`);
  const topics = w.topics.map((t) => `<tr><td class="id">${esc(t.topic)}</td><td>${esc(span(t.silenceMs))}</td><td>${esc(span(t.maxSilenceMs))}</td><td>${when(t.lastReceived)}</td><td>${badge(t.over ? 'silent' : 'ok', t.over ? 'fail' : 'pass')}</td></tr>`);
  const runs = w.runs.map((r) => `<tr><td>${esc(r.rule)}</td><td class="id">${esc(r.runId)}</td><td>${esc(span(r.ageMs))}</td><td>${esc(span(r.limitMs))}</td><td>${badge(r.over ? 'stuck' : 'ok', r.over ? 'fail' : 'pass')}</td></tr>`);
  const state = !w.running ? '<p class="muted">The watchdog is not configured (watchdog.silence, rules[].max_silence).</p>'
    : `<p class="muted">Last look: ${when(w.checkedAt)} UTC.</p>`;
  return `<section id="watchdog"><h2>Watchdog</h2>${state}`
    + table(['alarm', 'key', 'since', 'detail'], alarms, 'No alarm raised so far.')
    + (topics.length ? `<h2>Topics</h2>${table(['topic', 'silent for', 'expected within', 'last message', ''], topics, '')}` : '')
    + (runs.length ? `<h2>Oldest unfinished runs</h2>${table(['rule', 'run', 'age', 'timeout + grace', ''], runs, '')}` : '')
    + '</section>';
}

function eventRow(e: EventRow): string {
  const runs = e.runs.map((r) => `<li data-run="${esc(r.id)}">${esc(r.job)} ${badge(r.outcome ?? r.state, r.outcome ?? r.state)} ${link(r.buildUrl, 'build')}`
    + ` <span class="muted id">run ${esc(r.id)}</span>${r.reason ? ` <span class="muted">${esc(r.reason)}</span>` : ''}</li>`);
  return `<tr data-event="${esc(e.messageId)}"><td>${when(e.receivedAt)}</td><td class="id">${esc(e.messageId)}</td><td class="id">${esc(e.topic)}</td>`
    + `<td>${esc(e.artifact ?? '')}</td><td>${badge(e.status, e.status === 'routed' ? 'pass' : e.status)}</td>`
    + `<td>${runs.length ? `<ul class="runs">${runs.join('')}</ul>` : '<span class="muted">no run</span>'}</td></tr>`;
}

function actionLine(a: HumanAction): string {
  return `<li>${esc(a.kind)} by ${esc(a.who)} at ${when(a.at)}${a.reason ? `: ${esc(a.reason)}` : ''}</li>`;
}

function decisionRow(d: DecisionRow): string {
  const reasons = d.reasons.map((r) => `<li>${esc(r.testcase)} on ${esc(r.item)}${r.scenario ? ` (${esc(r.scenario)})` : ''}: ${badge(r.outcome)} ${link(r.ref_url ?? null, 'results')}`
    + `${r.waived_by ? ` <strong>waived by ${esc(r.waived_by)}</strong>${r.waiver_reason ? `: ${esc(r.waiver_reason)}` : ''}` : ''}</li>`);
  return `<tr data-gate="${esc(d.gateKey)}"><td>${when(d.createdAt)}</td><td>${esc(d.product)}<br><span class="id">${esc(d.artifactId)}</span></td>`
    + `<td>${badge(d.decision)}</td><td>${esc(d.mode)}</td><td>${esc(d.action)}</td>`
    + `<td><ul class="reasons">${reasons.join('')}</ul></td><td>${d.actions.length ? `<ul class="reasons">${d.actions.map(actionLine).join('')}</ul>` : '<span class="muted">—</span>'}</td></tr>`;
}

export function renderDashboard(m: DashboardModel): string {
  const raised = m.watchdog.alarms.filter((a) => a.raised).length;
  const waivers = m.waivers.map((w) => `<tr data-waiver="${esc(w.id)}"><td class="id">${esc(w.id)}</td><td>${esc(w.product)}</td><td>${esc(w.testcase)}</td>`
    + `<td class="id">${esc(w.item)}</td><td>${esc(w.scenario ?? '')}</td><td>${esc(w.reason)}</td><td>${esc(w.who)}<br><span class="muted">${when(w.createdAt)}</span></td>`
    + `<td>${w.revokedAt === null ? badge('in force', 'pass') : `${badge('revoked', 'fail')} ${esc(w.revokedBy ?? '')} ${when(w.revokedAt)}`}</td></tr>`);
  const dead = m.deadLetters.map((d) => `<tr data-dead-letter="${esc(d.messageId)}"><td>${when(d.receivedAt)}</td><td class="id">${esc(d.messageId)}</td><td class="id">${esc(d.topic)}</td>`
    + `<td><ul class="reasons">${d.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul></td></tr>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>CVP dashboard</title><style>${STYLE}</style></head>
<body><header><h1>CVP</h1><span class="when">${when(m.generatedAt)} UTC · ${m.events.length} recent event(s) · ${m.decisions.length} decision(s) · ${m.deadLetters.length} dead letter(s) · ${raised ? `<strong>${raised} alarm(s) raised</strong>` : 'no alarm'}</span></header>
<main>
${agreementSection(m)}
${watchdogSection(m)}
<section id="events" class="wide"><h2>Recent events</h2>${table(['received (UTC)', 'event', 'topic', 'artifact', 'status', 'runs'], m.events.map(eventRow), 'No event received yet.')}</section>
<section id="decisions" class="wide"><h2>Gates and decisions</h2>${table(['when (UTC)', 'gate', 'decision', 'mode', 'knob', 'reasons', 'people'], m.decisions.map(decisionRow), 'No gate has decided yet.')}</section>
<section id="waivers" class="wide"><h2>Waivers</h2>${table(['waiver', 'product', 'test case', 'item', 'scenario', 'reason', 'who', 'state'], waivers, 'No waiver given.')}</section>
<section id="dead-letters" class="wide"><h2>Dead letters</h2>${table(['received (UTC)', 'message', 'topic', 'reasons'], dead, 'No message was dead-lettered.')}</section>
</main></body></html>
`;
}
