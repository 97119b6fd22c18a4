/** Event data ends up in job parameters and Slack text; these keep it bounded and inert there. */

// Control characters other than tab and newline have no business in a parameter and can confuse logs.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function boundParameter(value: string, maxLength: number): string {
  const clean = value.replace(CONTROL, '');
  return clean.length > maxLength ? clean.slice(0, maxLength) : clean;
}

/**
 * Slack mrkdwn: &, < and > are the only control characters; escaping them stops event data from
 * forming links or mentions (<!channel>, <@U123>, <http://...|...>).
 */
export function slackEscape(value: string, maxLength = 300): string {
  const bounded = value.length > maxLength ? value.slice(0, maxLength - 1) + '…' : value;
  return bounded.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
