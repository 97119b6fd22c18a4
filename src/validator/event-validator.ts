import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { permanentError } from '../errors';
import { boundedReasons } from './bounded-reasons';

export type Validity = { valid: true } | { valid: false; code: 'MESSAGE_INVALID' | 'UNKNOWN_TOPIC' | 'UNKNOWN_VERSION'; reasons: string[] };

export interface ValidatorOptions {
  /** Reasons listed per invalid message, at most (a last line says when there were more). */
  maxReasons?: number;
  /** Items of each array looked at when reasons are collected (the verdict itself looks at every item). */
  keptItems?: number;
}

export const DEFAULT_MAX_REASONS = 50;
export const DEFAULT_KEPT_ITEMS = 10;

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return schemaFiles(p);
    return name.endsWith('.json') ? [p] : [];
  });
}

/** `VirtualTopic.eng.ci.redhat-container-group.test.queued` (or /topic/... ) → `redhat-container-group.test.queued` */
export function messageKind(topic: string): string | null {
  const m = /(?:^|[./])VirtualTopic\.eng\.(?:ci\.)?(.+)$/.exec(topic);
  return m ? m[1] : null;
}

/**
 * The kinds a topic may name, most specific first: the namespaced form producers use,
 * `VirtualTopic.eng.ci.<namespace>.<artifact>.test.<stage>`, names `<artifact>.test.<stage>`.
 */
export function messageKinds(topic: string): string[] {
  const kind = messageKind(topic);
  if (!kind) return [];
  const namespaced = /^[^.]+\.([^.]+\.test\.[^.]+)$/.exec(kind);
  return namespaced ? [kind, namespaced[1]] : [kind];
}

const ANY = '*';

/** A schema's verdict (fast: stops at the first violation) and, only for invalid messages, its reasons. */
interface KindSchema {
  id: string;
  verdict: ValidateFunction;
}

interface KindSchemas {
  /** By major version: "1" → 1.x validator; "0" → legacy 0.x. */
  byMajor: Map<string, KindSchema>;
}

/**
 * Validates event bodies against the schemas under schemas/events, chosen by topic and by the
 * message's own `version`. A version no schema covers is rejected with that reason, never guessed.
 *
 * The verdict comes from validators that stop at the first violation, so its cost is linear in the
 * message. Ajv's every-error mode costs the square of an array's length (it concatenates the error
 * list at each item), so reasons are collected only for invalid messages, by that mode compiled on
 * first use, over a copy of the message with each array cut to its first few items; the verdict's
 * own first violation is always among them, and at most `maxReasons` are listed.
 */
export class EventValidator {
  private readonly kinds = new Map<string, KindSchemas>();
  readonly ajv: Ajv2020;
  /** Every-error mode, for reasons; its validators are compiled when first needed. */
  private readonly reasonsAjv: Ajv2020;
  private readonly maxReasons: number;
  private readonly keptItems: number;

  constructor(schemasRoot: string, opts: ValidatorOptions = {}) {
    this.maxReasons = Math.max(1, opts.maxReasons ?? DEFAULT_MAX_REASONS);
    this.keptItems = Math.max(1, opts.keptItems ?? DEFAULT_KEPT_ITEMS);
    this.ajv = new Ajv2020({ allErrors: false, strict: true });
    this.reasonsAjv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    addFormats(this.reasonsAjv);
    const eventsDir = join(schemasRoot, 'events');
    const files = schemaFiles(eventsDir);
    const schemas = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as { $id: string });
    for (const schema of schemas) {
      this.ajv.addSchema(schema);
      this.reasonsAjv.addSchema(schema);
    }
    files.forEach((file, i) => {
      const parts = relative(eventsDir, file).split(sep);
      if (parts.includes('defs')) return;
      // Top level: ci-messages 1.x; legacy/: 0.x; unversioned/: messages without a `version` (Freshmaker's).
      const major = parts[0] === 'legacy' ? '0' : parts[0] === 'unversioned' ? ANY : '1';
      const kind = basename(file, '.json');
      const entry = this.kinds.get(kind) ?? { byMajor: new Map() };
      entry.byMajor.set(major, { id: schemas[i].$id, verdict: this.ajv.getSchema(schemas[i].$id)! });
      this.kinds.set(kind, entry);
    });
  }

  /** The kind of message a topic carries, in its plain or namespaced form; null when no schema covers it. */
  kindOf(topic: string): string | null {
    return messageKinds(topic).find((k) => this.kinds.has(k)) ?? null;
  }

  knows(topic: string): boolean {
    return this.kindOf(topic) !== null;
  }

  knownKinds(): string[] {
    return [...this.kinds.keys()].sort();
  }

  validate(topic: string, body: unknown): Validity {
    const kind = this.kindOf(topic);
    const entry = kind ? this.kinds.get(kind) : undefined;
    if (!kind || !entry) {
      return { valid: false, code: 'UNKNOWN_TOPIC', reasons: [`topic ${topic.slice(0, 300)}: no schema for this kind of message`] };
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return { valid: false, code: 'MESSAGE_INVALID', reasons: [`$: expected an object, found ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`] };
    }
    const any = entry.byMajor.get(ANY);
    if (any) return this.check(any, body);
    const version = (body as { version?: unknown }).version;
    if (typeof version !== 'string') {
      return { valid: false, code: 'MESSAGE_INVALID', reasons: [`$.version: required string (semver), found ${version === undefined ? 'nothing' : typeof version}`] };
    }
    const shown = JSON.stringify(version.length > 60 ? `${version.slice(0, 57)}...` : version);
    const semver = /^(\d+)\.(\d+)\.\d+/.exec(version);
    const major = semver?.[1];
    if (major === '0' && semver![2] === '1' && 'ci' in body) {
      // The pre-0.2 layout (ci, and the test's fields at the top level) is not what 0.2.x and 1.x
      // schemas describe, and it predates the pipeline ids CVP matches runs by.
      return { valid: false, code: 'UNKNOWN_VERSION', reasons: [`$.version: ${shown} is the ci-messages 0.1 layout (ci instead of contact, the test's fields at the top level), which CVP does not take in: send 0.2.x or 1.x`] };
    }
    const schema = major === undefined ? undefined : entry.byMajor.get(major);
    if (!schema) {
      const known = [...entry.byMajor.keys()].map((m) => `${m}.x`).join(', ');
      return { valid: false, code: 'UNKNOWN_VERSION', reasons: [`$.version: ${kind} is known in version ${known}, found ${shown}`] };
    }
    return this.check(schema, body);
  }

  private check(schema: KindSchema, body: object): Validity {
    if (schema.verdict(body)) return { valid: true };
    const first = schema.verdict.errors ?? [];
    const reasons = boundedReasons(body, first, {
      all: () => this.reasonsAjv.getSchema(schema.id)!,
      maxReasons: this.maxReasons,
      keptItems: this.keptItems,
    });
    return { valid: false, code: 'MESSAGE_INVALID', reasons };
  }

  /**
   * Compiles now the every-error validators of these topics' kinds (every version), which are
   * otherwise compiled by the first invalid message of a kind: 50 to 100 ms each, better spent at
   * start than on the event loop while messages and probes wait.
   */
  warmReasons(topics: string[]): void {
    for (const topic of topics) {
      const kind = this.kindOf(topic);
      for (const schema of kind ? this.kinds.get(kind)!.byMajor.values() : []) this.reasonsAjv.getSchema(schema.id);
    }
  }

  /** Validates a message CVP is about to send; a failure is a bug in CVP, never sent. */
  assertValid(topic: string, body: unknown): void {
    const v = this.validate(topic, body);
    if (!v.valid) throw permanentError(v.code, `outgoing ${topic} message is invalid`, v.reasons);
  }
}
