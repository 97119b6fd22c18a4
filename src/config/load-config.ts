import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { permanentError } from '../errors';
import { schemasDir } from '../paths';
import { readableErrors } from '../validator/readable-errors';
import type { CvpConfig, LoadedConfig } from './config';
import { checkRules } from './check-rules';
import { checkJournal, journalUrlSecrets } from './check-journal';
import { Redactor } from './redactor';

export type Env = Record<string, string | undefined>;

export type PathSeg = string | number;

/**
 * A loaded configuration that can still say where each key is written, so that problems found
 * after loading (TLS files that cannot be read, a port in use) are `file:line:col: key: what` too.
 */
export interface LocatedConfig extends LoadedConfig {
  /** `file:line:col: key` of a key path such as ['bus', 'tls', 'cert'] (its parent's place when it is not written). */
  at(path: PathSeg[], key?: string): string;
}

/** Where a problem is: file:line:col and the key as a path such as rules[0].report.per. */
export class ConfigLocator {
  constructor(private readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {}

  at(path: PathSeg[], key?: string): string {
    let node: unknown = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    let range = (node as YamlNode | undefined)?.range;
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) range = pair.key.range;
    }
    for (let n = path.length; !range && n > 0; n--) {
      node = this.doc.getIn(path.slice(0, n - 1), true);
      range = (node as YamlNode | undefined)?.range;
    }
    const pos = range ? this.lines.linePos(range[0]) : { line: 1, col: 1 };
    return `${this.file}:${pos.line}:${pos.col}: ${keyPath(key === undefined ? path : [...path, key])}`;
  }
}

export function keyPath(path: PathSeg[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The value of ${NAME}: the variable NAME, or the contents of the file NAME_FILE names (the way
 * container platforms hand out secrets), without its final newline.
 */
function lookup(name: string, env: Env): { value?: string; problem?: string } {
  const direct = env[name];
  if (direct !== undefined) return { value: direct };
  const file = env[`${name}_FILE`];
  if (file === undefined) return { problem: `environment variable ${name} is not set (nor ${name}_FILE)` };
  try {
    return { value: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } catch (err) {
    return { problem: `${name}_FILE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}

/** Keys whose values are secrets: they must come from the environment, and are never printed. */
export const SECRET_KEYS = new Set(['token', 'passcode', 'passphrase', 'hmac_secret', 'signing_secret', 'password']);

/** Values an error message must not show: secrets, and whatever came from the environment. */
interface Sensitive {
  /** Values of secret keys (from the environment or written in the file). */
  secrets: string[];
  /** Strings in which a ${VAR} was replaced. */
  fromEnv: Set<string>;
}

function underSecretKey(path: PathSeg[]): boolean {
  return path.some((seg) => typeof seg === 'string' && SECRET_KEYS.has(seg));
}

/** Replaces ${VAR} in every string; a variable that is not set is an error at its key, not an empty secret. */
function substitute(value: unknown, env: Env, path: PathSeg[], problems: Array<{ path: PathSeg[]; message: string }>, sensitive: Sensitive): unknown {
  if (typeof value === 'string') {
    const out = value.replace(VAR, (_all, name: string) => {
      const v = lookup(name, env);
      if (v.problem !== undefined) {
        problems.push({ path, message: v.problem });
        return '';
      }
      return v.value!;
    });
    VAR.lastIndex = 0;
    if (out !== value && out) sensitive.fromEnv.add(out);
    if (underSecretKey(path) && out) sensitive.secrets.push(out);
    return out;
  }
  // A secret written as a number (or anything else) is as secret: never shown in an error.
  if (underSecretKey(path) && (typeof value === 'number' || typeof value === 'boolean')) sensitive.secrets.push(String(value));
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, env, [...path, i], problems, sensitive));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, env, [...path, k], problems, sensitive);
    return out;
  }
  return value;
}

/** A secret written into the YAML itself ends up in version control and backups: refused unless allowed. */
function inlineSecrets(value: unknown, path: PathSeg[], found: PathSeg[][]): void {
  if (Array.isArray(value)) value.forEach((v, i) => inlineSecrets(v, [...path, i], found));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEYS.has(k) && typeof v === 'string' && v && !VAR.test(v)) found.push([...path, k]);
      VAR.lastIndex = 0;
      inlineSecrets(v, [...path, k], found);
    }
  }
}

let configValidator: ReturnType<Ajv2020['compile']> | undefined;

function validatorFor(): ReturnType<Ajv2020['compile']> {
  if (!configValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    configValidator = ajv.compile(JSON.parse(readFileSync(join(schemasDir, 'config.schema.json'), 'utf8')));
  }
  return configValidator;
}

function pointerToPath(pointer: string): PathSeg[] {
  return pointer.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
}

function valueAtPath(data: unknown, path: PathSeg[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function schemaProblems(errors: ErrorObject[], data: unknown, loc: ConfigLocator, sensitive: Sensitive): string[] {
  // oneOf/anyOf branches repeat each other; keep the clearest line per location.
  const lines: string[] = [];
  for (const e of errors) {
    let text = readableErrors([e], data)[0];
    if (!text) continue;
    const p = e.params as Record<string, unknown>;
    const path = pointerToPath(e.instancePath);
    const value = valueAtPath(data, path);
    if (underSecretKey(path) || (typeof value === 'string' && (sensitive.fromEnv.has(value) || sensitive.secrets.includes(value)))) {
      // What was found is a secret, or came from the environment (which holds secrets): not shown.
      text = text.replace(/, found .*$/s, ', found a value not shown here (a secret, or from the environment)');
    }
    const key = e.keyword === 'required' ? String(p.missingProperty)
      : e.keyword === 'additionalProperties' ? String(p.additionalProperty) : undefined;
    const where = key !== undefined && e.keyword === 'additionalProperties' ? loc.at(path, key) : loc.at(path);
    const what = text.replace(/^\$[^:]*: /, '');
    const line = key !== undefined && e.keyword === 'required' ? `${where}: ${key} is required, but missing` : `${where}: ${what}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/** Parses and checks a config text; every problem names the file, the line and the key. */
export function parseConfig(text: string, file: string, env: Env, knowsTopic: (topic: string) => boolean): LocatedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    // The first few only: one YAML mistake sets off a cascade of follow-on errors.
    const problems = doc.errors.slice(0, 3).map((e) => {
      const pos = lines.linePos(e.pos[0]);
      // A JSONPath such as $.a[0].b inside { } is the usual cause: [ ] are flow indicators there.
      const hint = /flow-seq-start|flow-seq-end/.test(e.message) ? ' (inside { } a value with [ or ] must be quoted)'
        // ${VAR} inside { } is the other: its braces end the mapping.
        : /flow-map-start|flow-map-end/.test(e.message) ? ' (inside { } a value with { or }, such as ${VAR}, must be quoted)' : '';
      return `${file}:${pos.line}:${pos.col}: YAML: ${e.message.split('\n')[0]}${hint}`;
    });
    throw permanentError('CONFIG_INVALID', `${file}: the configuration is not valid YAML`, problems);
  }
  const loc = new ConfigLocator(file, doc, lines);
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const subst: Array<{ path: PathSeg[]; message: string }> = [];
  const sensitive: Sensitive = { secrets: [], fromEnv: new Set() };
  const data = substitute(raw, env, [], subst, sensitive);
  const secrets = sensitive.secrets;
  const problems = subst.map((p) => `${loc.at(p.path)}: ${p.message}`);
  if (!(raw as { allow_inline_secrets?: boolean } | null)?.allow_inline_secrets) {
    const inline: PathSeg[][] = [];
    inlineSecrets(raw, [], inline);
    for (const p of inline) {
      const name = `CVP_${p.filter((s) => typeof s === 'string').join('_').toUpperCase()}`;
      problems.push(`${loc.at(p)}: a secret written in the file; write \${${name}} and set ${name} (or ${name}_FILE) in the environment, or set allow_inline_secrets: true`);
    }
  }
  const validate = validatorFor();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problems.push(`${file}:1:1: (top level): expected a mapping of settings, found ${data === null ? 'an empty file' : typeof data}`);
  } else if (!validate(data)) {
    problems.push(...schemaProblems(validate.errors ?? [], data, loc, sensitive));
  } else {
    problems.push(...checkRules(data as CvpConfig, (path, key) => loc.at(path, key), knowsTopic));
    problems.push(...checkJournal(raw, data as CvpConfig, (path, key) => loc.at(path, key), Boolean((raw as { allow_inline_secrets?: boolean }).allow_inline_secrets)));
    secrets.push(...journalUrlSecrets(data as CvpConfig));
  }
  if (problems.length) {
    // Whatever a check printed, a secret's value is blanked out of it.
    const redactor = new Redactor(secrets);
    throw permanentError('CONFIG_INVALID', `${file}: the configuration has ${problems.length} problem(s)`, problems.map((p) => redactor.redact(p)));
  }
  return { config: data as CvpConfig, file, dir: dirname(resolve(file)), secrets: [...new Set(secrets)], at: (path, key) => loc.at(path, key) };
}

export function loadConfig(file: string, env: Env, knowsTopic: (topic: string) => boolean): LocatedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw permanentError('CONFIG_INVALID', `${file}: cannot read the configuration (${why})`);
  }
  return parseConfig(text, file, env, knowsTopic);
}
