/**
 * The parts of Jenkins' JSON API this adapter reads (the remote API of Job, Run and Queue.Item, as
 * filtered by the `tree` this adapter sends), each with a JSON Schema checked at run time: an
 * answer of another shape (a login page behind a proxy, a Jenkins too old for `allBuilds`) is a
 * clear error, not a wrong guess.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { transientError } from '../../errors';

export interface JenkinsParameterValue { _class?: string; name: string; value?: unknown }

/** Actions without exported fields render as `{}` or `{ _class }`; some Jenkins versions put nulls in. */
export type JenkinsAction = { _class?: string; parameters?: JenkinsParameterValue[] } | null;

export interface JenkinsBuildRow {
  number: number;
  url: string;
  /** When the build was scheduled to start, epoch ms. */
  timestamp: number;
  queueId?: number;
  actions?: JenkinsAction[];
}

export interface JenkinsBuildPage { allBuilds: JenkinsBuildRow[] }

export interface JenkinsQueueItem {
  id: number;
  cancelled?: boolean;
  executable?: { number: number; url: string } | null;
  actions?: JenkinsAction[];
  task?: { name?: string; url?: string };
}

export interface JenkinsQueue { items: JenkinsQueueItem[] }

export interface JenkinsBuild {
  number: number;
  url: string;
  building: boolean;
  result: string | null;
}

export interface JenkinsJobParameters {
  property?: Array<{ _class?: string; parameterDefinitions?: Array<{ _class?: string; name: string }> } | null>;
}

export interface JenkinsCrumb { crumb: string; crumbRequestField: string }

/** The `tree` each answer is asked with; the schemas below check exactly these fields. */
export const TREES = {
  buildPage: (from: number, to: number) => `allBuilds[number,url,timestamp,queueId,actions[parameters[name,value]]]{${from},${to}}`,
  queue: 'items[id,task[name,url],actions[parameters[name,value]]]',
  queueItem: 'id,cancelled,executable[number,url]',
  build: 'number,url,building,result',
  parameters: 'property[parameterDefinitions[name]]',
  crumb: 'crumb,crumbRequestField',
} as const;

/**
 * Jenkins lists a build's actions and a job's properties as arrays of objects, each with its
 * `_class`, some of them null (an action or property the tree filter left empty); `key` holds the
 * named entries CVP reads.
 */
function classedList(key: string, entry: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'array',
    items: {
      anyOf: [
        { type: 'null' },
        { type: 'object', properties: { _class: { type: 'string' }, [key]: { type: 'array', items: { type: 'object', required: ['name'], properties: entry } } } },
      ],
    },
  };
}

const actions = classedList('parameters', { name: { type: 'string' } });
const buildRef = { type: 'object', required: ['number', 'url'], properties: { number: { type: 'integer', minimum: 1 }, url: { type: 'string' } } };

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

const validators = {
  buildPage: ajv.compile({
    type: 'object',
    required: ['allBuilds'],
    properties: {
      allBuilds: {
        type: 'array',
        items: {
          type: 'object',
          required: ['number', 'url', 'timestamp'],
          properties: {
            number: { type: 'integer', minimum: 1 },
            url: { type: 'string' },
            timestamp: { type: 'number' },
            queueId: { type: 'integer' },
            actions,
          },
        },
      },
    },
  }),
  queue: ajv.compile({
    type: 'object',
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'integer' }, actions, task: { type: 'object', properties: { name: { type: 'string' }, url: { type: 'string' } } } },
        },
      },
    },
  }),
  queueItem: ajv.compile({
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'integer' },
      cancelled: { type: 'boolean' },
      executable: { anyOf: [{ type: 'null' }, buildRef] },
    },
  }),
  build: ajv.compile({
    type: 'object',
    required: ['number', 'url', 'building', 'result'],
    properties: {
      number: { type: 'integer', minimum: 1 },
      url: { type: 'string' },
      building: { type: 'boolean' },
      result: { type: ['string', 'null'] },
    },
  }),
  parameters: ajv.compile({
    type: 'object',
    properties: {
      property: classedList('parameterDefinitions', { _class: { type: 'string' }, name: { type: 'string', minLength: 1 } }),
    },
  }),
  crumb: ajv.compile({
    type: 'object',
    required: ['crumb', 'crumbRequestField'],
    properties: { crumb: { type: 'string', minLength: 1 }, crumbRequestField: { type: 'string', minLength: 1 } },
  }),
};

interface WireTypes {
  buildPage: JenkinsBuildPage;
  queue: JenkinsQueue;
  queueItem: JenkinsQueueItem;
  build: JenkinsBuild;
  parameters: JenkinsJobParameters;
  crumb: JenkinsCrumb;
}

/**
 * The answer as its type once its shape is checked; otherwise a transient PEER_ANSWER_INVALID that
 * names what was asked, where, and the first field that is wrong.
 */
export function checkWire<K extends keyof WireTypes>(kind: K, value: unknown, what: string): WireTypes[K] {
  const validate = validators[kind] as ValidateFunction;
  if (validate(value)) return value as WireTypes[K];
  const e = validate.errors?.[0];
  const where = e ? `${e.instancePath || 'the answer'} ${e.message ?? 'is not as expected'}` : 'not as expected';
  throw transientError('PEER_ANSWER_INVALID', `${what}: Jenkins' answer is not the expected JSON (${where})`);
}

export function parameterOf(actions: JenkinsAction[] | undefined, name: string): string | undefined {
  for (const a of actions ?? []) {
    for (const p of a?.parameters ?? []) if (p.name === name) return p.value === undefined || p.value === null ? undefined : String(p.value);
  }
  return undefined;
}
