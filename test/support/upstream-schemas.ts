/**
 * The upstream ci-messages 0.2.5 schemas, read at test time from the project's own copy in
 * test/fixtures/upstream/ (where they come from and under which licence: its README.md), so that
 * tests can hold CVP's messages, incoming examples and outgoing messages, against the published
 * standard, on a fresh clone with nothing beside it.
 *
 * The published set needs three repairs before a validator can use it, all made in memory:
 * - its `$id`s ("contact", "test", ...) do not match the file names its `$ref`s use ("contact.json",
 *   "test-common.json"): each file is registered under its file name instead;
 * - it refers to files it does not contain: each is stubbed with `{}` (anything passes);
 * - some fragments lack the leading "/" of a JSON pointer ("common.json#properties/version").
 * They are draft-07 schemas, hence the default `ajv` export. `strict: false`: strict mode judges
 * how a schema is written, which is upstream's business; a later upstream copy written otherwise
 * must not break CVP's tests (the 0.2.5 set happens to pass it once repaired).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
/** The upstream files as published, kept in the repository (never edited: repairs are made in memory). */
export const REFERENCE_DIR = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'upstream');
export const UPSTREAM_DIR = path.join(REFERENCE_DIR, 'ci-messages-0.2.5-schemas');
export const TEMPLATES_DIR = path.join(REFERENCE_DIR, 'ci-message-templates');

/** Files the upstream schemas `$ref` that the published 0.2.5 set lacks; each is stubbed with `{}`. */
export const STUBBED_UPSTREAM_FILES: readonly string[] = ['notification.json', 'stage.json', 'system.json'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Schema = { [key: string]: Json };

export interface Verdict {
  valid: boolean;
  /** `<instance path> <message>`, empty when valid. */
  errors: string[];
}

export interface UpstreamValidator {
  /** Upstream part files by name without `.json` (contact, run, pipeline, test-common, ...). */
  parts: string[];
  /** Upstream message kinds (koji-build-group.test.queued, ...). */
  kinds: string[];
  validatePart(partName: string, value: unknown): Verdict;
  validateTop(kind: string, value: unknown): Verdict;
}

/** Fails with a message saying where the reference copy should be, rather than an ENOENT. */
export function requireReferenceDir(dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(
      `Reference folder not found: ${dir}. These tests read the upstream files kept in ` +
        `${path.relative(PACKAGE_ROOT, REFERENCE_DIR)}/ (see its README.md); restore them from version control.`,
    );
  }
  return dir;
}

/** `common.json#properties/version` -> `common.json#/properties/version`; good refs unchanged. */
export function fixRef(ref: string): string {
  const hash = ref.indexOf('#');
  if (hash < 0 || hash === ref.length - 1 || ref[hash + 1] === '/') return ref;
  return `${ref.slice(0, hash + 1)}/${ref.slice(hash + 1)}`;
}

/** Every `$ref` value in a schema, depth first. */
export function refsOf(value: Json): string[] {
  if (Array.isArray(value)) return value.flatMap(refsOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsOf(v)));
}

function withFixedRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(withFixedRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? fixRef(v) : withFixedRefs(v)]));
}

/** The upstream files as published, by file name. */
export function readUpstreamFiles(): Map<string, Schema> {
  const dir = requireReferenceDir(UPSTREAM_DIR);
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  return new Map(names.map((n) => [n, JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as Schema]));
}

/** File names referenced by the upstream schemas but absent from the published set. */
export function missingUpstreamFiles(files: Map<string, Schema>): string[] {
  const referenced = new Set([...files.values()].flatMap(refsOf).map((r) => r.split('#')[0]).filter((f) => f !== ''));
  return [...referenced].filter((f) => !files.has(f)).sort();
}

/** The repaired schemas (fixed refs, `$id` = file name), stubs included, by file name. */
export function repairedUpstreamSchemas(): Map<string, Schema> {
  const files = readUpstreamFiles();
  const repaired = new Map<string, Schema>();
  for (const [name, schema] of files) repaired.set(name, { ...(withFixedRefs(schema) as Schema), $id: name });
  for (const name of missingUpstreamFiles(files)) repaired.set(name, { $id: name });
  return repaired;
}

const explain = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);

let cached: UpstreamValidator | undefined;

/** One draft-07 Ajv holding the repaired upstream set (built once per test file). */
export function upstreamValidator(): UpstreamValidator {
  if (cached) return cached;
  const schemas = repairedUpstreamSchemas();
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const schema of schemas.values()) ajv.addSchema(schema);

  const published = [...readUpstreamFiles().keys()].map((n) => n.replace(/\.json$/, ''));
  const kinds = published.filter((n) => n.includes('.test.'));
  const parts = published.filter((n) => !n.includes('.test.'));
  const run = (name: string, known: string[], what: string, value: unknown): Verdict => {
    const bare = name.replace(/\.json$/, '');
    if (!known.includes(bare)) throw new Error(`no upstream ${what} "${name}" (known: ${known.join(', ')})`);
    const validate = ajv.getSchema(`${bare}.json`);
    if (!validate) throw new Error(`upstream ${what} ${bare}.json did not compile`);
    const valid = validate(value) as boolean;
    return { valid, errors: explain(validate.errors) };
  };
  cached = {
    parts,
    kinds,
    validatePart: (partName, value) => run(partName, parts, 'part', value),
    validateTop: (kind, value) => run(kind, kinds, 'message kind', value),
  };
  return cached;
}
