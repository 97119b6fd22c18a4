/**
 * The Slack Web API as this adapter speaks it (chat.postMessage with message metadata,
 * conversations.history / conversations.replies / conversations.list), with a JSON Schema for each
 * answer checked at run time: an answer of another shape is a clear error, not a wrong guess.
 */
import Ajv, { type ValidateFunction } from 'ajv';

/** The event_type CVP's notices carry; event_payload.key is the notice's key (CVP's effect id). */
export const NOTICE_EVENT_TYPE = 'cvp_notice';

export interface SlackNoticeMetadata {
  event_type: typeof NOTICE_EVENT_TYPE;
  event_payload: { key: string };
}

/** chat.postMessage as this adapter sends it. */
export interface SlackPostMessage {
  channel: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  unfurl_links?: boolean;
  unfurl_media?: boolean;
  metadata?: SlackNoticeMetadata;
}

export interface SlackPostMessageAnswer {
  ok: true;
  channel: string;
  ts: string;
}

export interface SlackMessage {
  ts: string;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload?: Record<string, unknown> };
}

export interface SlackMessagesAnswer {
  ok: true;
  messages: SlackMessage[];
  has_more?: boolean;
  response_metadata?: { next_cursor?: string };
}

export interface SlackChannelsAnswer {
  ok: true;
  channels: Array<{ id: string; name: string }>;
  response_metadata?: { next_cursor?: string };
}

const TS = '^\\d+\\.\\d+$';
const cursor = { type: 'object', properties: { next_cursor: { type: 'string' } } };

const ajv = new Ajv({ allErrors: false, strict: true });

const validators = {
  posted: ajv.compile({
    type: 'object',
    required: ['ok', 'channel', 'ts'],
    properties: { ok: { const: true }, channel: { type: 'string', minLength: 1 }, ts: { type: 'string', pattern: TS } },
  }),
  messages: ajv.compile({
    type: 'object',
    required: ['ok', 'messages'],
    properties: {
      ok: { const: true },
      messages: {
        type: 'array',
        items: {
          type: 'object',
          required: ['ts'],
          properties: {
            ts: { type: 'string', pattern: TS },
            thread_ts: { type: 'string' },
            metadata: { type: 'object', required: ['event_type'], properties: { event_type: { type: 'string' }, event_payload: { type: 'object' } } },
          },
        },
      },
      has_more: { type: 'boolean' },
      response_metadata: cursor,
    },
  }),
  channels: ajv.compile({
    type: 'object',
    required: ['ok', 'channels'],
    properties: {
      ok: { const: true },
      channels: {
        type: 'array',
        items: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
      },
      response_metadata: cursor,
    },
  }),
};

interface WireTypes {
  posted: SlackPostMessageAnswer;
  messages: SlackMessagesAnswer;
  channels: SlackChannelsAnswer;
}

/** The answer as its type once its shape is checked; otherwise the first wrong field, in words. */
export function wireProblem<K extends keyof WireTypes>(kind: K, value: unknown): { ok: WireTypes[K] } | { problem: string } {
  const validate = validators[kind] as ValidateFunction;
  if (validate(value)) return { ok: value as WireTypes[K] };
  const e = validate.errors?.[0];
  return { problem: e ? `${e.instancePath || 'the answer'} ${e.message ?? 'is not as expected'}` : 'not as expected' };
}

/** The notice key a message carries, if it is one of CVP's notices. */
export function noticeKeyOf(message: SlackMessage): string | undefined {
  const m = message.metadata;
  if (m?.event_type !== NOTICE_EVENT_TYPE) return undefined;
  const key = m.event_payload?.key;
  return typeof key === 'string' ? key : undefined;
}

/** Slack's ts form of an epoch-ms time ("1700000000.123000"), for `oldest`. */
export function slackTs(epochMs: number): string {
  return (Math.max(0, epochMs) / 1000).toFixed(6);
}

/** A channel id (C…, G… private, D… direct) rather than a name. */
export function isChannelId(channel: string): boolean {
  return /^[CGD][A-Z0-9]{2,}$/.test(channel);
}
