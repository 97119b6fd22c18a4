import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { permanentError } from '../errors';
import { readableErrors } from './readable-errors';

export type Validity = { valid: true } | { valid: false; code: 'MESSAGE_INVALID' | 'UNKNOWN_TOPIC' | 'UNKNOWN_VERSION'; reasons: string[] };

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

interface KindSchemas {
  /** By major version: "1" → 1.x validator; "0" → legacy 0.x. */
  byMajor: Map<string, ValidateFunction>;
}

/**
 * Validates event bodies against the schemas under schemas/events, chosen by topic and by the
 * message's own `version`. A version no schema covers is rejected with that reason, never guessed.
 */
export class EventValidator {
  private readonly kinds = new Map<string, KindSchemas>();
  readonly ajv: Ajv2020;

  constructor(schemasRoot: string) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    const eventsDir = join(schemasRoot, 'events');
    const files = schemaFiles(eventsDir);
    for (const file of files) this.ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
    for (const file of files) {
      const parts = relative(eventsDir, file).split(sep);
      if (parts.includes('defs')) continue;
      // Top level: ci-messages 1.x; legacy/: 0.x; unversioned/: messages without a `version` (Freshmaker's).
      const major = parts[0] === 'legacy' ? '0' : parts[0] === 'unversioned' ? ANY : '1';
      const kind = basename(file, '.json');
      const schema = JSON.parse(readFileSync(file, 'utf8')) as { $id: string };
      const entry = this.kinds.get(kind) ?? { byMajor: new Map() };
      entry.byMajor.set(major, this.ajv.getSchema(schema.$id)!);
      this.kinds.set(kind, entry);
    }
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
      return { valid: false, code: 'UNKNOWN_TOPIC', reasons: [`topic ${topic}: no schema for this kind of message`] };
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return { valid: false, code: 'MESSAGE_INVALID', reasons: [`$: expected an object, found ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`] };
    }
    const any = entry.byMajor.get(ANY);
    if (any) return any(body) ? { valid: true } : { valid: false, code: 'MESSAGE_INVALID', reasons: readableErrors(any.errors, body) };
    const version = (body as { version?: unknown }).version;
    if (typeof version !== 'string') {
      return { valid: false, code: 'MESSAGE_INVALID', reasons: [`$.version: required string (semver), found ${version === undefined ? 'nothing' : typeof version}`] };
    }
    const semver = /^(\d+)\.(\d+)\.\d+/.exec(version);
    const major = semver?.[1];
    if (major === '0' && semver![2] === '1' && 'ci' in body) {
      // The pre-0.2 layout (ci, and the test's fields at the top level) is not what 0.2.x and 1.x
      // schemas describe, and it predates the pipeline ids CVP matches runs by.
      return { valid: false, code: 'UNKNOWN_VERSION', reasons: [`$.version: "${version}" is the ci-messages 0.1 layout (ci instead of contact, the test's fields at the top level), which CVP does not take in: send 0.2.x or 1.x`] };
    }
    const validate = major === undefined ? undefined : entry.byMajor.get(major);
    if (!validate) {
      const known = [...entry.byMajor.keys()].map((m) => `${m}.x`).join(', ');
      return { valid: false, code: 'UNKNOWN_VERSION', reasons: [`$.version: ${kind} is known in version ${known}, found "${version}"`] };
    }
    if (validate(body)) return { valid: true };
    return { valid: false, code: 'MESSAGE_INVALID', reasons: readableErrors(validate.errors, body) };
  }

  /** Validates a message CVP is about to send; a failure is a bug in CVP, never sent. */
  assertValid(topic: string, body: unknown): void {
    const v = this.validate(topic, body);
    if (!v.valid) throw permanentError(v.code, `outgoing ${topic} message is invalid`, v.reasons);
  }
}
