/** Event data ends up in job parameters and Slack text; these keep it bounded and inert there. */

// Control characters other than tab and newline have no business in a parameter and can confuse logs.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function boundParameter(value: string, maxLength: number): string {
  const clean = value.replace(CONTROL, '');
  return clean.length > maxLength ? clean.slice(0, maxLength) : clean;
}

/**
 * Characters that change how text reads rather than what it says: C0 controls and DEL (CR among
 * them), C1 controls (U+0080–U+009F), and the bidirectional controls (U+202A–U+202E, U+2066–U+2069,
 * U+200E, U+200F, U+061C), with which "gnp.exe" can be made to show as "exe.png".
 */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text with those characters taken out; tabs and newlines become spaces when `inline`. */
export function stripInvisible(value: string, inline = true): string {
  const clean = value.replace(INVISIBLE, '');
  return inline ? clean.replace(/[\t\n]/g, ' ') : clean;
}

/** &, < and > written as Slack wants them (the only characters mrkdwn treats as markup). */
function escapeMarkup(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Event data as Slack text (mrkdwn, and the top-level `text`, which Slack parses the same way):
 * invisible and direction-changing characters taken out, at most `maxLength` characters of it kept,
 * and &, < and > escaped, so that no mention or link can be formed (<!channel>, <@U123>,
 * <http://...|...>). The escaped text may be up to five times `maxLength` (&amp;).
 */
export function slackEscape(value: string, maxLength = 300): string {
  const clean = stripInvisible(value);
  const bounded = clean.length > maxLength ? clean.slice(0, maxLength - 1) + '…' : clean;
  return escapeMarkup(bounded);
}

/**
 * A link Slack shows as `label`: only http(s) URLs, with the characters that would end it or start
 * markup (| < > and spaces) percent-encoded and & escaped; anything else is shown as text.
 */
export function slackLink(url: string, label: string): string {
  const clean = stripInvisible(url).trim();
  if (!/^https?:\/\/[^\s]+$/i.test(clean) || clean.length > 2_000) return `${slackEscape(label)} ${slackEscape(clean, 200)}`.trim();
  const safe = clean.replace(/[|<>"\s]/g, (c) => encodeURIComponent(c)).replace(/&/g, '&amp;');
  return `<${safe}|${slackEscape(label, 100)}>`;
}

/**
 * Escaped Slack text cut to at most `max` characters without leaving half of an entity (&am) or of
 * a link (<http://...) at the end.
 */
export function cutSlackText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  const open = cut.lastIndexOf('<');
  if (open >= 0 && !cut.slice(open).includes('>')) cut = cut.slice(0, open);
  return `${cut}…`;
}
