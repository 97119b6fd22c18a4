/**
 * What Slack sends to the interactivity endpoint (a form body, `payload=<JSON>`: block_actions
 * when a button is pressed, view_submission when a modal is submitted) and what it answers to
 * views.open and usergroups.users.list, each with a JSON Schema checked at run time: a payload of
 * another shape is refused with the first wrong field named, never guessed at. Only the fields CVP
 * reads are required; Slack sends many more.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { ButtonValue } from '../../listener/effects/notices';

export interface SlackUserRef { id: string; username?: string; name?: string; team_id?: string }

export interface SlackButtonAction {
  type: string;
  action_id: string;
  block_id: string;
  value?: string;
  action_ts: string;
}

export interface BlockActionsPayload {
  type: 'block_actions';
  user: SlackUserRef;
  team: { id: string; domain?: string } | null;
  trigger_id: string;
  response_url?: string;
  container: { type: string; message_ts?: string; channel_id?: string; is_ephemeral?: boolean; view_id?: string };
  channel?: { id: string; name?: string };
  message?: { ts: string; thread_ts?: string };
  actions: SlackButtonAction[];
}

export interface ViewSubmissionPayload {
  type: 'view_submission';
  user: SlackUserRef;
  team: { id: string; domain?: string } | null;
  trigger_id?: string;
  view: {
    id: string;
    callback_id: string;
    private_metadata: string;
    state: { values: Record<string, Record<string, { type: string; value?: string | null }>> };
  };
}

export type InteractionPayload = BlockActionsPayload | ViewSubmissionPayload | { type: 'other'; original: string };

export interface ViewsOpenAnswer { ok: true; view: { id: string } }
export interface UsergroupUsersAnswer { ok: true; users: string[] }

const userRef = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[UW][A-Z0-9]+$' }, username: { type: 'string' }, name: { type: 'string' }, team_id: { type: 'string' } } };
const team = { type: ['object', 'null'], required: ['id'], properties: { id: { type: 'string' }, domain: { type: 'string' } } };

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

const validators = {
  block_actions: ajv.compile({
    type: 'object',
    required: ['type', 'user', 'trigger_id', 'container', 'actions'],
    properties: {
      type: { const: 'block_actions' },
      user: userRef,
      team,
      trigger_id: { type: 'string', minLength: 1 },
      response_url: { type: 'string', pattern: '^https?://' },
      container: {
        type: 'object', required: ['type'],
        properties: { type: { type: 'string' }, message_ts: { type: 'string' }, channel_id: { type: 'string' }, is_ephemeral: { type: 'boolean' }, view_id: { type: 'string' } },
      },
      channel: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
      message: { type: 'object', required: ['ts'], properties: { ts: { type: 'string' }, thread_ts: { type: 'string' } } },
      actions: {
        type: 'array', minItems: 1,
        items: {
          type: 'object', required: ['type', 'action_id', 'block_id', 'action_ts'],
          properties: { type: { type: 'string' }, action_id: { type: 'string', maxLength: 255 }, block_id: { type: 'string' }, value: { type: 'string', maxLength: 2000 }, action_ts: { type: 'string' } },
        },
      },
    },
  }),
  view_submission: ajv.compile({
    type: 'object',
    required: ['type', 'user', 'view'],
    properties: {
      type: { const: 'view_submission' },
      user: userRef,
      team,
      trigger_id: { type: 'string' },
      view: {
        type: 'object', required: ['id', 'callback_id', 'private_metadata', 'state'],
        properties: {
          id: { type: 'string' },
          callback_id: { type: 'string' },
          private_metadata: { type: 'string', maxLength: 3000 },
          state: {
            type: 'object', required: ['values'],
            properties: {
              values: {
                type: 'object',
                additionalProperties: { type: 'object', additionalProperties: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, value: { type: ['string', 'null'] } } } },
              },
            },
          },
        },
      },
    },
  }),
  views_open: ajv.compile({
    type: 'object', required: ['ok', 'view'],
    properties: { ok: { const: true }, view: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } },
  }),
  /** A button's value, as CVP rendered it (notices.ts). */
  button_value: ajv.compile({
    oneOf: [
      { type: 'object', required: ['k', 'p', 't', 'a'], additionalProperties: false, properties: { k: { enum: ['release', 'hold'] }, p: { type: 'string' }, t: { type: 'string' }, a: { type: 'string' } } },
      {
        type: 'object', required: ['k', 'p', 't', 'a', 'i', 'y', 'c'], additionalProperties: false,
        properties: { k: { const: 'waive' }, p: { type: 'string' }, t: { type: 'string' }, a: { type: 'string' }, i: { type: 'string' }, y: { type: 'string' }, c: { type: 'string' }, s: { type: 'string' } },
      },
      { type: 'object', required: ['k', 'r'], additionalProperties: false, properties: { k: { const: 'rerun' }, r: { type: 'string' } } },
      { type: 'object', required: ['k', 'w'], additionalProperties: false, properties: { k: { const: 'revoke' }, w: { type: 'string' } } },
    ],
  }),
  usergroup_users: ajv.compile({
    type: 'object', required: ['ok', 'users'],
    properties: { ok: { const: true }, users: { type: 'array', items: { type: 'string' } } },
  }),
};

interface WireTypes {
  block_actions: BlockActionsPayload;
  view_submission: ViewSubmissionPayload;
  views_open: ViewsOpenAnswer;
  usergroup_users: UsergroupUsersAnswer;
  button_value: ButtonValue;
}

/** The value as its type once its shape is checked; otherwise the first wrong field, in words. */
export function interactionWire<K extends keyof WireTypes>(kind: K, value: unknown): { ok: WireTypes[K] } | { problem: string } {
  const validate = validators[kind] as ValidateFunction;
  if (validate(value)) return { ok: value as WireTypes[K] };
  const e = validate.errors?.[0];
  return { problem: e ? `${e.instancePath || '(the payload)'} ${e.message ?? 'is not as expected'}` : 'not as expected' };
}

/**
 * Slack's form body: `payload=<JSON>`. Returns the payload checked against its type's schema, a
 * payload of a type CVP does not handle (`other`), or why it cannot be read.
 */
export function parseInteraction(body: string): { ok: InteractionPayload } | { problem: string } {
  const form = new URLSearchParams(body);
  const raw = form.get('payload');
  if (raw === null) return { problem: 'the body has no payload field (Slack sends payload=<JSON>, form-encoded)' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { problem: `payload is not JSON: ${(err as Error).message}` };
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type === 'block_actions' || type === 'view_submission') {
    const checked = interactionWire(type, json);
    return 'ok' in checked ? checked : { problem: `${type} payload: ${checked.problem}` };
  }
  if (typeof type !== 'string') return { problem: 'payload.type: required string' };
  return { ok: { type: 'other', original: type } };
}
