/**
 * Sending an interaction payload to an app as Slack does: a form body `payload=<JSON>`, signed
 * with the app's signing secret (X-Slack-Signature: v0=HMAC-SHA256 of `v0:<timestamp>:<body>`,
 * X-Slack-Request-Timestamp in seconds). Forgeries are made by changing the secret, the timestamp
 * or the body after signing.
 */
import { createHmac } from 'node:crypto';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export function slackSignature(secret: string, timestampS: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampS}:${body}`).digest('hex')}`;
}

/** The request Slack would send for this payload, signed at `nowMs` (default: now). */
export function signInteraction(payload: unknown, secret: string, nowMs = Date.now()): SignedRequest {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = Math.floor(nowMs / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(secret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
  };
}

export interface Answer { status: number; text: string; ms: number }

/** POSTs a signed request (as Slack does, or as a forger would) and reads the answer. */
export async function sendSigned(url: string, req: SignedRequest): Promise<Answer> {
  const t = Date.now();
  const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, text: await res.text(), ms: Date.now() - t };
}

/** Signs a payload and sends it. */
export function sendInteraction(url: string, payload: unknown, secret: string): Promise<Answer> {
  return sendSigned(url, signInteraction(payload, secret));
}
