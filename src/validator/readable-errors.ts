import type { ErrorObject } from 'ajv';

/** `/artifact/images/0/nvr` → `$.artifact.images[0].nvr` */
export function jsonPath(pointer: string): string {
  if (!pointer) return '$';
  return '$' + pointer.split('/').slice(1).map((raw) => {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) return `[${seg}]`;
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) return `.${seg}`;
    return `[${JSON.stringify(seg)}]`;
  }).join('');
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 60 ? value.slice(0, 57) + '...' : value}"`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** One line per violation: where, what was expected, what was found. Never ajv's raw output. */
export function readableErrors(errors: ErrorObject[] | null | undefined, data: unknown): string[] {
  const lines = new Set<string>();
  for (const e of errors ?? []) {
    const found = valueAt(data, e.instancePath);
    const at = jsonPath(e.instancePath);
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        lines.add(`${jsonPath(`${e.instancePath}/${String(p.missingProperty)}`)}: required, but missing`);
        break;
      case 'additionalProperties':
        lines.add(`${jsonPath(`${e.instancePath}/${String(p.additionalProperty)}`)}: not allowed here (unknown key)`);
        break;
      case 'type':
        lines.add(`${at}: expected ${String(p.type)}, found ${describe(found)}`);
        break;
      case 'enum':
        lines.add(`${at}: expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${describe(found)}`);
        break;
      case 'const':
        lines.add(`${at}: expected ${JSON.stringify(p.allowedValue)}, found ${describe(found)}`);
        break;
      case 'pattern':
        lines.add(`${at}: expected a string matching ${String(p.pattern)}, found ${describe(found)}`);
        break;
      case 'format':
        lines.add(`${at}: expected ${String(p.format)} format, found ${describe(found)}`);
        break;
      case 'minItems':
        lines.add(`${at}: expected at least ${String(p.limit)} item(s), found ${describe(found)}`);
        break;
      case 'maxItems':
        lines.add(`${at}: expected at most ${String(p.limit)} item(s), found ${describe(found)}`);
        break;
      case 'minLength':
        lines.add(`${at}: expected at least ${String(p.limit)} character(s), found ${describe(found)}`);
        break;
      case 'maxLength':
        lines.add(`${at}: expected at most ${String(p.limit)} character(s), found a string of ${String((found as string)?.length)}`);
        break;
      case 'if': case 'anyOf': case 'oneOf':
        // The branches' own errors say what is wrong; the summary adds nothing.
        break;
      default:
        lines.add(`${at}: ${e.message ?? e.keyword}, found ${describe(found)}`);
    }
  }
  if (lines.size === 0 && (errors?.length ?? 0) > 0) lines.add(`$: ${errors![0].message ?? 'invalid'}`);
  return [...lines];
}
