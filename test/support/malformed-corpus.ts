/**
 * A deterministic corpus of hostile bus messages for the redhat-container-group.test.queued topic,
 * interleaved with valid group events, each with what the daemon must do with it.
 *
 * Every message is derived from examples/messages/redhat-container-group.test.queued.json (through
 * stream-fixture's streamEvent: a unique artifact.id and unique image NVRs per message), so each
 * mutation is one a real publisher could make, and a message that is wrongly acted on shows up as a
 * build of its own group id. The same seed gives the same bytes in the same order.
 *
 * Expectations are worked out here from the JSON spec, the event schemas and the documented parse
 * rules (limits.max_message_bytes in UTF-8 bytes, limits.max_depth in nesting levels, and the keys
 * `__proto__`, `constructor` and `prototype` dropped while parsing), never by asking the daemon's code:
 * - a prototype key next to a valid event's own fields leaves a valid event (expect: 'valid', so it
 *   must be built like any other); fields present only under such a key are gone (invalid);
 * - a body that is not UTF-8 is not JSON text (RFC 8259 section 8.1), so invalid UTF-8 makes a message
 *   invalid wherever it is, inside a free-text string value included (where a lossy decoding would
 *   otherwise pass the schema);
 * - binary bodies are sent with a content-length (a NUL byte would otherwise end the STOMP frame).
 */
import { gzipSync } from 'node:zlib';
import { streamEvent } from './stream-fixture';

export const CORPUS_KINDS = [
  'broken-json', 'wrong-type', 'missing-required', 'unknown-version', 'oversized',
  'deep', 'prototype', 'binary', 'empty', 'not-object',
] as const;
export type CorpusKind = (typeof CORPUS_KINDS)[number];

export interface CorpusMessage {
  /** Position in publish order; sent as the `corpus_index` header. */
  index: number;
  kind: CorpusKind | 'valid';
  variant: string;
  body: string | Buffer;
  /** STOMP headers to send it with (a content-length for bodies that may hold NUL bytes). */
  headers: Record<string, string>;
  expect: 'valid' | 'invalid';
  /** Invalid: the `cvp-error-code` it must get, or null where more than one code is right. */
  code: string | null;
  /** Invalid: JSONPaths ($.a.b[0].c) each of which must start one of its reasons. */
  reasonPaths: string[];
  /** The artifact id of the event it was made from: a build with this GROUP_ID came from this message. */
  groupId: string;
  /** Valid: its images' NVRs (the ResultsDB items). */
  items?: string[];
}

/** A message before it has its place and its group id. */
type Draft = Omit<CorpusMessage, 'index' | 'groupId'>;

export interface CorpusOptions {
  seed: number;
  /** Prefix of every artifact id; no '-' or whitespace (it becomes part of NVRs). */
  tag: string;
  malformed: number;
  valid: number;
  /** The daemon's limits.max_message_bytes and limits.max_depth. */
  maxMessageBytes: number;
  maxDepth: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['artifact', 'images', 0, 'nvr']` → `$.artifact.images[0].nvr` (the daemon's reason format). */
export function jsonPathOf(path: Path): string {
  return '$' + path.map((s) => (typeof s === 'number' ? `[${s}]` : IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('');
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function getAt(root: Json, path: Path): Json {
  let cur: Json = root;
  for (const s of path) cur = (cur as Record<string, Json>)[s as string];
  return cur;
}

function setAt(root: Json, path: Path, value: Json): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string, Json>;
  parent[path[path.length - 1] as string] = value;
}

function deleteAt(root: Json, path: Path): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string, Json>;
  delete parent[path[path.length - 1] as string];
}

/** An object whose keys are own data properties, `__proto__` included (JSON.stringify writes them all). */
function objectOf(entries: Array<[string, Json]>): Record<string, Json> {
  const o: Record<string, Json> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

function withKey(obj: Record<string, Json>, key: string, value: Json, first: boolean): Record<string, Json> {
  const rest = Object.entries(obj);
  return objectOf(first ? [[key, value], ...rest] : [...rest, [key, value]]);
}

/** Nesting depth of a value as the JSON spec sees it: each object or array is one level. */
function depthOf(v: Json): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, depthOf(c)), 0);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const PLACEHOLDER = 'CVPCORPUSPLACEHOLDER';

/**
 * The event's JSON bytes with `bad` inserted at `offset` into the key (or the string value) at `path`;
 * everything else is plain UTF-8.
 */
function withBadBytes(e: Record<string, Json>, path: Path, where: 'key' | 'value', offset: number, bad: number[]): Buffer {
  const copy = clone(e);
  const name = String(path[path.length - 1]);
  let original: string;
  if (where === 'value') {
    original = String(getAt(copy, path));
    setAt(copy, path, PLACEHOLDER);
  } else {
    original = name;
    const parent = getAt(copy, path.slice(0, -1)) as Record<string, Json>;
    const entries = Object.entries(parent).map(([k, v]): [string, Json] => [k === name ? PLACEHOLDER : k, v]);
    for (const k of Object.keys(parent)) delete parent[k];
    for (const [k, v] of entries) parent[k] = v;
  }
  const [before, after] = JSON.stringify(copy).split(PLACEHOLDER);
  const quoted = JSON.stringify(original).slice(1, -1);
  return Buffer.concat([Buffer.from(before), Buffer.from(quoted.slice(0, offset)), Buffer.from(bad), Buffer.from(quoted.slice(offset)), Buffer.from(after)]);
}

interface Token {
  start: number;
  end: number; // exclusive
  kind: 'key' | 'string' | 'literal' | 'punct';
}

/** Tokens of a JSON text (strings, keys, numbers/literals, punctuation), with their positions. */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out.push({ start: i, end: j + 1, kind: 'string' });
      i = j + 1;
    } else if ('{}[],:'.includes(c)) {
      if (c === ':' && out.length) out[out.length - 1].kind = 'key';
      out.push({ start: i, end: i + 1, kind: 'punct' });
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{}[\],:]/.test(text[j])) j += 1;
      out.push({ start: i, end: j, kind: 'literal' });
      i = j;
    }
  }
  return out;
}

// The group event's typed places (with two images, as streamEvent makes it).
const IMAGE_FIELDS = ['name', 'full_name', 'id', 'nvr', 'component', 'issuer'];
const REQUIRED_PATHS: Path[] = [
  ['contact'], ['run'], ['artifact'], ['pipeline'], ['test'], ['generated_at'], ['version'],
  ['contact', 'name'], ['contact', 'team'], ['contact', 'docs'], ['contact', 'email'],
  ['run', 'url'], ['run', 'log'],
  ['artifact', 'type'], ['artifact', 'id'], ['artifact', 'component'], ['artifact', 'errata_id'], ['artifact', 'images'],
  ...[0, 1].flatMap((k) => IMAGE_FIELDS.map((f): Path => ['artifact', 'images', k, f])),
  ['pipeline', 'id'], ['pipeline', 'name'],
  ['test', 'category'], ['test', 'namespace'], ['test', 'type'],
];
const STRING_PATHS: Path[] = [
  ['contact', 'name'], ['contact', 'team'], ['contact', 'docs'], ['contact', 'email'], ['contact', 'url'], ['contact', 'slack'],
  ['run', 'url'], ['run', 'log'], ['artifact', 'type'], ['artifact', 'id'], ['artifact', 'component'],
  ...[0, 1].flatMap((k) => ['name', 'full_name', 'nvr', 'component', 'issuer'].map((f): Path => ['artifact', 'images', k, f])),
  ['pipeline', 'id'], ['pipeline', 'name'], ['test', 'category'], ['test', 'namespace'], ['test', 'type'],
  ['generated_at'], ['version'],
];
const INTEGER_PATHS: Path[] = [['artifact', 'errata_id'], ['test', 'lifetime']];
const IMAGE_ID_PATHS: Path[] = [['artifact', 'images', 0, 'id'], ['artifact', 'images', 1, 'id']];
const OBJECT_PATHS: Path[] = [['contact'], ['run'], ['artifact'], ['pipeline'], ['test'], ['artifact', 'images', 0], ['artifact', 'images', 1]];
const ARRAY_PATHS: Path[] = [['artifact', 'images']];
/** Free-text string values: any non-empty string is valid there. */
const FREE_TEXT_PATHS: Path[] = [['artifact', 'component'], ['contact', 'name'], ['contact', 'team'], ['pipeline', 'name'], ['artifact', 'images', 0, 'issuer']];

function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

class Generator {
  constructor(private readonly random: () => number, private readonly opts: CorpusOptions) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }

  /** 1..max distinct paths, none inside another. */
  pickPaths(from: Path[], max: number): Path[] {
    const n = this.int(1, max);
    const out: Path[] = [];
    for (let tries = 0; out.length < n && tries < 50; tries++) {
      const p = this.pick(from);
      if (!out.some((q) => overlaps(p, q))) out.push(p);
    }
    return out;
  }

  text(v: Json): string {
    return JSON.stringify(v, null, this.pick([undefined, undefined, 2, '\t']));
  }

  base(i: number): Record<string, Json> {
    return streamEvent(`${this.opts.tag}m`, i) as Record<string, Json>;
  }

  /** Reason paths for a body whose `version` may be affected: a bad version is reported alone. */
  static reasonsFor(paths: Path[]): string[] {
    return paths.some((p) => p.length === 1 && p[0] === 'version') ? ['$.version'] : paths.map(jsonPathOf);
  }

  message(kind: CorpusKind, i: number): Draft {
    const invalid = (variant: string, body: string | Buffer, code: string | null, reasonPaths: string[] = [], headers: Record<string, string> = {}): Draft =>
      ({ kind, variant, body, headers, expect: 'invalid', code, reasonPaths });
    const e = this.base(i);
    switch (kind) {
      case 'broken-json': return this.brokenJson(e, invalid);
      case 'wrong-type': {
        const variant = this.pick(['numbers-for-strings', 'any-for-strings', 'strings-for-integers', 'booleans-for-integers', 'bad-image-id', 'arrays-for-objects', 'objects-for-arrays', 'several']);
        const choices: Record<string, [Path[], Json[]]> = {
          'numbers-for-strings': [STRING_PATHS, [42, 0, -1, 3.14, 1e21]],
          'any-for-strings': [STRING_PATHS, [true, false, null, {}, [], ['x'], { value: 'x' }]],
          'strings-for-integers': [INTEGER_PATHS, ['47960', '120', 'true', 'false', '']],
          'booleans-for-integers': [INTEGER_PATHS, [true, false, 1.5, null, [1], {}]],
          'bad-image-id': [IMAGE_ID_PATHS, [true, 1.5, null, 'abc', '0', '-5', [24871234], {}]],
          'arrays-for-objects': [OBJECT_PATHS, [[], [{}], 'x', 1, true, null]],
          'objects-for-arrays': [ARRAY_PATHS, [{}, { 0: 'x' }, 'images', 2, null, true]],
        };
        const paths = variant === 'several'
          ? this.pickPaths([...STRING_PATHS, ...INTEGER_PATHS, ...IMAGE_ID_PATHS], 3)
          : [this.pick(choices[variant][0])];
        for (const p of paths) {
          const pool = variant !== 'several' ? choices[variant][1]
            : IMAGE_ID_PATHS.includes(p) ? choices['bad-image-id'][1]
              : INTEGER_PATHS.includes(p) ? choices['strings-for-integers'][1] : choices['numbers-for-strings'][1];
          let v = clone(this.pick(pool));
          if (v && typeof v === 'object' && !Array.isArray(v) && 0 in v && p[p.length - 1] === 'images') v = { 0: getAt(e, [...p, 0]) };
          setAt(e, p, v);
        }
        return invalid(variant, this.text(e), 'MESSAGE_INVALID', Generator.reasonsFor(paths));
      }
      case 'missing-required': {
        const variant = this.pick(['one', 'one', 'several', 'images-empty', 'empty-object']);
        if (variant === 'images-empty') {
          setAt(e, ['artifact', 'images'], []);
          return invalid(variant, this.text(e), 'MESSAGE_INVALID', ['$.artifact.images']);
        }
        if (variant === 'empty-object') return invalid(variant, '{}', 'MESSAGE_INVALID', ['$.version']);
        const paths = this.pickPaths(REQUIRED_PATHS, variant === 'one' ? 1 : 4);
        for (const p of paths) deleteAt(e, p);
        return invalid(variant, this.text(e), 'MESSAGE_INVALID', Generator.reasonsFor(paths));
      }
      case 'unknown-version': {
        const unknown: Json[] = ['7.0.0', '2.0.0', '10.1.0', 'banana', '', '1.1', 'v1.1.0', '１.１.０', ' 1.1.0'];
        const notSemver1: Json[] = [null, 1.1, 1, true, '1.1.0-rc.1', '1.1.0 ', ['1.1.0'], { major: 1 }];
        const variant = this.pick(['unknown', 'unknown', 'missing', 'not-1.x-string']);
        if (variant === 'missing') deleteAt(e, ['version']);
        else e.version = clone(this.pick(variant === 'unknown' ? unknown : notSemver1));
        return invalid(`${variant}:${JSON.stringify(e.version ?? null)}`, this.text(e), variant === 'unknown' ? 'UNKNOWN_VERSION' : 'MESSAGE_INVALID', ['$.version']);
      }
      case 'oversized': return this.oversized(e, invalid);
      case 'deep': return this.deep(e, invalid);
      case 'prototype': return this.prototype(e, kind);
      case 'binary': return this.binary(e, invalid);
      case 'empty': {
        const body = this.pick(['', '', '', '', ' ', '\n', '\r\n', '\t \t']);
        return invalid(body === '' ? 'zero-bytes' : 'whitespace', body, 'MESSAGE_NOT_JSON');
      }
      case 'not-object': {
        const bodies: Array<[string, string]> = [
          ['empty-array', '[]'], ['array-of-event', `[${JSON.stringify(e)}]`], ['array-of-numbers', '[1,2,3]'],
          ['number', String(this.int(-1000, 100000))], ['float', '-1.5e3'], ['string', '"redhat-container-group"'],
          ['double-encoded-event', JSON.stringify(JSON.stringify(e))], ['true', 'true'], ['false', 'false'], ['null', 'null'],
        ];
        const [variant, body] = this.pick(bodies);
        return invalid(variant, body, 'MESSAGE_INVALID', ['$']);
      }
    }
  }

  private brokenJson(e: Record<string, Json>, invalid: (v: string, b: string, c: string | null) => Draft): Draft {
    const text = this.text(e);
    const tokens = tokenize(text);
    const of = (k: Token['kind'], ch?: string) => tokens.filter((t) => t.kind === k && (ch === undefined || text.slice(t.start, t.end) === ch));
    const splice = (at: number, remove: number, insert: string) => text.slice(0, at) + insert + text.slice(at + remove);
    const variants: Record<string, () => string> = {
      truncated: () => text.slice(0, this.int(1, text.length - 1)),
      'trailing-comma': () => { const t = this.pick([...of('punct', '}'), ...of('punct', ']')]); return splice(t.start, 0, ','); },
      'unquoted-key': () => { const t = this.pick(of('key')); return splice(t.start, t.end - t.start, text.slice(t.start + 1, t.end - 1)); },
      'single-quotes': () => { const t = this.pick([...of('key'), ...of('string')]); return splice(t.start, t.end - t.start, `'${text.slice(t.start + 1, t.end - 1)}'`); },
      comment: () => { const t = this.pick(of('punct', ',')); return splice(t.end, 0, this.pick([' /* cvp */ ', '// note\n'])); },
      'missing-comma': () => { const t = this.pick(of('punct', ',')); return splice(t.start, 1, ' '); },
      'missing-colon': () => { const t = this.pick(of('punct', ':')); return splice(t.start, 1, ' '); },
      'bare-word': () => { const t = this.pick([...of('string'), ...of('literal')]); return splice(t.start, t.end - t.start, this.pick(['NaN', 'Infinity', 'undefined', 'None', 'nil', '-'])); },
      'trailing-garbage': () => text + this.pick(['}', ']', ' x', ',', text, '\n{}']),
      'control-character': () => { const t = this.pick(of('string')); return splice(t.start + 1, 0, this.pick(['\n', '\t', '\u0001', '\u001f', '\r'])); },
      'unclosed-string': () => { const t = this.pick(of('string')); return splice(t.end - 1, 1, ''); },
      'bad-number': () => text.replace(/("errata_id":\s*)(\d+)/, (_m, k: string, n: string) => k + this.pick([`0${n}`, `0x${Number(n).toString(16)}`, `+${n}`, `${n}.`, `.${n}`])),
      'bad-escape': () => { const t = this.pick(of('string')); return splice(t.start + 1, 0, this.pick(['\\x41', '\\u12', '\\a', '\\'])); },
    };
    const variant = this.pick(Object.keys(variants));
    let body = variants[variant]();
    // A mutation that happened to leave valid JSON (none should) is cut short, so the case stays what it says.
    if (isJson(body)) body = body.slice(0, body.length - 1);
    return invalid(variant, body, 'MESSAGE_NOT_JSON');
  }

  private oversized(e: Record<string, Json>, invalid: (v: string, b: string, c: string | null) => Draft): Draft {
    const limit = this.opts.maxMessageBytes;
    const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
    const padTo = (target: number, unit: string): string => {
      const baseLen = bytes(JSON.stringify({ ...e, note: '' }));
      const n = Math.ceil((target - baseLen) / bytes(unit));
      return JSON.stringify({ ...e, note: unit.repeat(Math.max(n, 1)) });
    };
    const variant = this.pick(['ascii-note', 'ascii-note', 'one-byte-over', 'multibyte-note', 'many-images', 'junk', 'huge']);
    let body: string;
    switch (variant) {
      case 'one-byte-over':
        body = padTo(limit + 1, 'x');
        if (bytes(body) !== limit + 1) throw new Error(`one-byte-over corpus case is ${bytes(body)} bytes`);
        break;
      case 'multibyte-note':
        // More bytes than the limit, fewer characters: the limit is in bytes.
        body = padTo(limit + this.int(1, limit / 4), this.pick(['é', '€', '😀', '日本']));
        break;
      case 'many-images': {
        const images = getAt(e, ['artifact', 'images']) as Array<Record<string, Json>>;
        const more: Json[] = [];
        for (let k = 0, size = 0; size < limit + 1024; k++) {
          const image = { ...images[k % 2], nvr: `${String(images[k % 2].nvr)}.${k}` };
          more.push(image);
          size += bytes(JSON.stringify(image)) + 1;
        }
        setAt(e, ['artifact', 'images'], more);
        body = JSON.stringify(e);
        break;
      }
      case 'junk':
        body = 'x'.repeat(limit + this.int(1, limit / 4));
        break;
      case 'huge':
        // Rare: keeps the corpus's volume down while still sending some bodies many times the limit.
        body = this.random() < 0.1 ? padTo(this.int(4, 16) * limit, 'x') : padTo(limit + this.int(1, limit / 4), 'x');
        break;
      default:
        body = padTo(limit + this.int(1, limit / 4), 'x');
    }
    if (bytes(body) <= limit) throw new Error(`oversized corpus case ${variant} is only ${bytes(body)} bytes`);
    return invalid(variant, body, 'MESSAGE_TOO_LARGE');
  }

  private deep(e: Record<string, Json>, invalid: (v: string, b: string, c: string | null) => Draft): Draft {
    const max = this.opts.maxDepth;
    const nest = (levels: number, inner: Json, shape: 'object' | 'array' | 'mixed'): Json => {
      let v = inner;
      for (let k = 0; k < levels; k++) {
        const asArray = shape === 'array' || (shape === 'mixed' && k % 2 === 1);
        v = asArray ? [v] : { level: v };
      }
      return v;
    };
    const variant = this.pick(['arrays', 'one-level-over', 'in-event', 'in-image', 'mixed', 'very-deep', 'unclosed']);
    switch (variant) {
      case 'arrays': {
        const d = this.int(max + 1, max + 40);
        return invalid(`${variant}:${d}`, '['.repeat(d) + ']'.repeat(d), 'MESSAGE_TOO_DEEP');
      }
      case 'very-deep': {
        const d = this.int(1000, 20000);
        return invalid(`${variant}:${d}`, '['.repeat(d) + '1' + ']'.repeat(d), 'MESSAGE_TOO_DEEP');
      }
      case 'unclosed': {
        // Too deep and not JSON either: either refusal is right.
        const d = this.int(max + 1, max + 100);
        return invalid(`${variant}:${d}`, '{"a":'.repeat(d), null);
      }
      default: {
        // Nested inside an otherwise valid event: total depth (the event's own levels included) over the limit.
        const at: Path = variant === 'in-image' ? ['artifact', 'images', this.int(0, 1), 'labels'] : [this.pick(['note', 'extra', 'metadata'])];
        const total = variant === 'one-level-over' ? max + 1 : this.int(max + 1, max + 30);
        const parentDepth = at.length; // each object/array above the key
        setAt(e, at, nest(total - parentDepth, 'deep', variant === 'mixed' ? 'mixed' : 'object'));
        if (depthOf(e) !== total) throw new Error(`deep corpus case: depth ${depthOf(e)}, meant ${total}`);
        return invalid(`${variant}:${total}`, this.text(e), 'MESSAGE_TOO_DEEP');
      }
    }
  }

  /**
   * The parser drops `__proto__`, `constructor` and `prototype` keys wherever they are. So such a key
   * next to a valid event's own fields leaves a valid event (processed as usual), while fields that
   * are only present under such a key are gone (the event is then missing them: invalid).
   */
  private prototype(e: Record<string, Json>, kind: CorpusKind): Draft {
    const forbidden = ['__proto__', 'constructor', 'prototype'] as const;
    const key = this.pick(forbidden);
    const first = this.random() < 0.5;
    const images = getAt(e, ['artifact', 'images']) as Array<Record<string, Json>>;
    const variant = this.pick(['extra-top', 'extra-nested-image', 'extra-nested-artifact', 'all-three-top',
      'version-only-under-key', 'artifact-only-under-key', 'image-only-under-key', 'event-wrapped', 'test-under-nested-keys', 'images-under-key']);
    const valid = (body: Json): Draft => ({
      kind, variant: `${variant}:${key}`, body: this.text(body), headers: {}, expect: 'valid', code: null, reasonPaths: [],
      items: images.map((im) => String(im.nvr)),
    });
    const invalid = (body: Json, reasonPaths: string[]): Draft => ({
      kind, variant: `${variant}:${key}`, body: this.text(body), headers: {}, expect: 'invalid', code: 'MESSAGE_INVALID', reasonPaths,
    });
    const payload = (): Json => this.pick<Json>([{ polluted: true }, { isAdmin: true, toString: 'x' }, 'x', 1, [1], null]);
    switch (variant) {
      case 'extra-top': return valid(withKey(e, key, payload(), first));
      case 'extra-nested-image': {
        const k = this.int(0, 1);
        const copy = images.map((im, n) => (n === k ? withKey(im, key, payload(), first) : im));
        return valid({ ...e, artifact: { ...(e.artifact as Record<string, Json>), images: copy } });
      }
      case 'extra-nested-artifact': return valid({ ...e, artifact: withKey(e.artifact as Record<string, Json>, key, { prototype: { polluted: true } }, first) });
      case 'all-three-top': return valid(objectOf([['__proto__', { a: 1 }], ...Object.entries(e), ['constructor', { prototype: { b: 2 } }], ['prototype', 'c']]));
      case 'version-only-under-key': {
        const { version, ...rest } = e;
        return invalid(withKey(rest, key, { version }, first), ['$.version']);
      }
      case 'artifact-only-under-key': {
        const { artifact, ...rest } = e;
        return invalid(withKey(rest, key, { artifact }, first), ['$.artifact']);
      }
      case 'image-only-under-key': {
        const copy = [objectOf([[key, images[0]]]), images[1]];
        return invalid({ ...e, artifact: { ...(e.artifact as Record<string, Json>), images: copy } }, IMAGE_FIELDS.map((f) => `$.artifact.images[0].${f}`));
      }
      case 'event-wrapped': return invalid(objectOf([[key, e]]), ['$.version']);
      case 'test-under-nested-keys':
        return invalid({ ...e, test: objectOf([['constructor', objectOf([['prototype', e.test]])]]) }, ['$.test.category', '$.test.namespace', '$.test.type']);
      default: // images-under-key
        return invalid({ ...e, artifact: { ...(e.artifact as Record<string, Json>), images: objectOf([[key, images]]) } }, ['$.artifact.images']);
    }
  }

  private binary(e: Record<string, Json>, invalid: (v: string, b: string | Buffer, c: string | null, r?: string[], h?: Record<string, string>) => Draft): Draft {
    const bad = [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xfe, 0xfe]];
    const text = JSON.stringify(e);
    const tokens = tokenize(text);
    const bytesWith = (at: number, insert: Buffer | number[]): Buffer =>
      Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(insert), Buffer.from(text.slice(at))]);
    const variant = this.pick(['random-bytes', 'nul-bytes', 'nul-in-event', 'nul-padded', 'invalid-utf8-between-tokens',
      'invalid-utf8-in-key', 'invalid-utf8-in-pattern-value', 'invalid-utf8-in-free-text', 'utf16', 'gzip']);
    let body: Buffer;
    let code: string | null = 'MESSAGE_NOT_JSON';
    const reasonPaths: string[] = [];
    switch (variant) {
      case 'random-bytes': {
        body = Buffer.alloc(this.int(1, 2048));
        for (let k = 0; k < body.length; k++) body[k] = this.int(0, 255);
        body[0] = this.int(0x80, 0xff); // never starts like JSON text
        break;
      }
      case 'nul-bytes': body = Buffer.alloc(this.int(1, 512)); break;
      case 'nul-in-event': body = bytesWith(this.int(1, text.length - 1), [0]); break;
      case 'nul-padded': body = Buffer.concat([Buffer.from(text), Buffer.alloc(this.int(1, 64))]); break;
      case 'invalid-utf8-between-tokens': body = bytesWith(this.pick(tokens.filter((t) => t.kind === 'punct')).end, this.pick(bad)); break;
      case 'invalid-utf8-in-key': {
        // A required key's name is broken: the key the schema wants is missing.
        const p = this.pick(REQUIRED_PATHS.filter((q) => q.length >= 2));
        const name = String(p[p.length - 1]);
        body = withBadBytes(e, p, 'key', this.int(0, name.length), this.pick(bad));
        // Not UTF-8, so not JSON text (RFC 8259 section 8.1): refused before any schema is applied.
        code = 'MESSAGE_NOT_JSON';
        break;
      }
      case 'invalid-utf8-in-pattern-value': {
        // Inside a value that has a pattern (an image pull spec): whatever it decodes to, it does not match.
        const p: Path = ['artifact', 'images', this.int(0, 1), 'full_name'];
        body = withBadBytes(e, p, 'value', this.int(1, String(getAt(e, p)).length - 1), this.pick(bad));
        code = 'MESSAGE_NOT_JSON';
        break;
      }
      case 'invalid-utf8-in-free-text': {
        // A body that is not UTF-8 is not JSON text (RFC 8259 section 8.1), wherever the bad bytes are:
        // the daemon must refuse it rather than act on a lossy decoding. Which code it gives is its choice.
        const p = this.pick(FREE_TEXT_PATHS);
        body = withBadBytes(e, p, 'value', this.int(0, String(getAt(e, p)).length), this.pick(bad));
        code = null;
        break;
      }
      case 'utf16': body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]); break;
      default: body = gzipSync(Buffer.from(text));
    }
    return invalid(variant, body, code, reasonPaths, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
  }
}

/**
 * `malformed` hostile messages (the kinds in equal shares, order shuffled) and `valid` valid group
 * events (`<tag>v-<n>`), interleaved, in publish order.
 */
export function generateCorpus(opts: CorpusOptions): CorpusMessage[] {
  if (/[-\s]/.test(opts.tag)) throw new Error('corpus tag must not contain - or whitespace');
  const random = seededRandom(opts.seed);
  const g = new Generator(random, opts);
  const out: Array<Omit<CorpusMessage, 'index'>> = [];
  for (let i = 0; i < opts.malformed; i++) out.push({ ...g.message(CORPUS_KINDS[i % CORPUS_KINDS.length], i), groupId: `${opts.tag}m-${i}` });
  for (let n = 0; n < opts.valid; n++) {
    const e = streamEvent(`${opts.tag}v`, n) as Record<string, Json>;
    const images = getAt(e, ['artifact', 'images']) as Array<Record<string, Json>>;
    out.push({ kind: 'valid', variant: 'group-event', body: g.text(e), headers: {}, expect: 'valid', code: null, reasonPaths: [],
      groupId: String(getAt(e, ['artifact', 'id'])), items: images.map((im) => String(im.nvr)) });
  }
  // Fisher-Yates with the same generator: the interleaving is part of what the seed fixes.
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [out[k], out[j]] = [out[j], out[k]];
  }
  return out.map((m, index) => ({ ...m, index, headers: { ...m.headers, corpus_index: String(index) } }));
}

/** The body as the daemon reads it (STOMP bodies are decoded as UTF-8). */
export function bodyAsRead(m: CorpusMessage): string {
  return typeof m.body === 'string' ? m.body : m.body.toString('utf8');
}

/** A short printable form of a body, for failure reports: JSON-escaped text, or hex for binary. */
export function preview(m: CorpusMessage, max = 160): string {
  if (typeof m.body === 'string') return JSON.stringify(m.body.length > max ? `${m.body.slice(0, max)}…(${Buffer.byteLength(m.body)} bytes)` : m.body);
  const hex = m.body.subarray(0, max / 2).toString('hex');
  return `hex:${hex}${m.body.length > max / 2 ? `…(${m.body.length} bytes)` : ''}`;
}
