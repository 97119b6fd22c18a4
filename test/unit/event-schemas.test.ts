/**
 * The event schemas (schemas/events: ci-messages 1.x and CVP's own messages at top level, ci-messages
 * 0.x under legacy/, version-less Freshmaker messages under unversioned/), their examples
 * (examples/messages) and the `cvp trigger` templates (templates/) agree with one another.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const ROOT = path.resolve(__dirname, '..', '..');
const SCHEMA_DIR = path.join(ROOT, 'schemas', 'events');
const EXAMPLE_DIR = path.join(ROOT, 'examples', 'messages');
const INVALID_DIR = path.join(EXAMPLE_DIR, 'invalid');
const TEMPLATE_DIR = path.join(ROOT, 'templates');
const ID_BASE = 'https://cvp.example.com/schemas/events/';

const ARTIFACT_TYPES = ['redhat-container-group', 'redhat-container-image', 'brew-build'];
const STAGES = ['queued', 'running', 'complete', 'error'];
const CI_KINDS = ARTIFACT_TYPES.flatMap((t) => STAGES.map((s) => `${t}.test.${s}`));

// The schemas each folder of schemas/events holds (the defs/ folders hold shared parts only).
const EXPECTED_SCHEMAS: Record<string, string[]> = {
  '': [...CI_KINDS, 'cvp.gate.decision'],
  legacy: CI_KINDS,
  unversioned: ['freshmaker.build.state.changed', 'freshmaker.event.state.changed'],
};

function jsonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []))
    .sort();
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const idOf = (schemaName: string): string => `${ID_BASE}${schemaName}.json`;
/** `<dir>/legacy/x.json` -> `legacy/x` (always with '/'). */
const relName = (dir: string, file: string): string => path.relative(dir, file).replace(/\.json$/, '').split(path.sep).join('/');

function explain(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('\n');
}

// Every file under schemas/events, added by $id; the top-level schemas are those outside defs/.
const schemaFiles = jsonFiles(SCHEMA_DIR);
const topLevelFiles = schemaFiles.filter((f) => !path.relative(SCHEMA_DIR, f).split(path.sep).includes('defs'));
const topLevelNames = topLevelFiles.map((f) => relName(SCHEMA_DIR, f));
const folderOf = (name: string): string => (name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '');

/**
 * The schema an example is checked against: examples/messages[/<folder>]/<name>.json goes with
 * schemas/events[/<folder>]/<name>.json, and a top-level example of a version-less message with
 * unversioned/<name>.json (Freshmaker's examples sit beside the others, as their topics do).
 */
function schemaNameFor(exampleName: string): string | undefined {
  const candidates = [exampleName, ...(exampleName.includes('/') ? [] : [`unversioned/${exampleName}`])];
  return candidates.find((c) => topLevelNames.includes(c));
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
for (const file of schemaFiles) ajv.addSchema(readJson(file) as object);

describe('schemas/events', () => {
  it.each(schemaFiles.map((f) => [path.relative(ROOT, f), f]))('%s has an $id matching its path', (_rel, file) => {
    const schema = readJson(file) as { $id?: string; $schema?: string };
    const rel = path.relative(SCHEMA_DIR, file).split(path.sep).join('/');
    expect(schema.$id).toBe(`${ID_BASE}${rel}`);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it.each(Object.entries(EXPECTED_SCHEMAS))('folder "%s" has exactly its schemas (one per <artifact-type>.test.<stage> for ci-messages)', (folder, names) => {
    expect(topLevelNames.filter((n) => folderOf(n) === folder).sort()).toEqual(names.map((n) => (folder ? `${folder}/${n}` : n)).sort());
  });

  it('has no schema outside the expected folders', () => {
    expect(topLevelNames.filter((n) => !(folderOf(n) in EXPECTED_SCHEMAS))).toEqual([]);
  });

  it.each(EXPECTED_SCHEMAS.unversioned)('unversioned/%s neither requires nor declares a version', (name) => {
    const schema = readJson(path.join(SCHEMA_DIR, 'unversioned', `${name}.json`)) as { required: string[]; properties: object };
    expect(schema.required).not.toContain('version');
    expect(Object.keys(schema.properties)).not.toContain('version');
  });

  it.each(topLevelNames)('%s compiles in strict mode', (name) => {
    const validate = ajv.getSchema(idOf(name));
    expect(validate).toBeDefined();
    expect(typeof validate?.schema).toBe('object');
  });
});

describe('examples/messages (valid)', () => {
  const examples = jsonFiles(EXAMPLE_DIR).filter((f) => !relName(EXAMPLE_DIR, f).startsWith('invalid/'));

  it('has one example per schema', () => {
    expect(examples.map((f) => schemaNameFor(relName(EXAMPLE_DIR, f)) ?? f).sort()).toEqual([...topLevelNames].sort());
  });

  it.each(examples.map((f) => [relName(EXAMPLE_DIR, f), f]))('%s is valid against the schema of the same name', (name, file) => {
    const schemaName = schemaNameFor(name);
    const validate = schemaName ? ajv.getSchema(idOf(schemaName)) : undefined;
    if (!validate) throw new Error(`no schema for ${file}`);
    const ok = validate(readJson(file));
    expect(explain(validate.errors)).toBe('');
    expect(ok).toBe(true);
  });

  // The version patterns keep 0.x and 1.x apart: each example is refused by the other version's
  // schema, on its version (and, with allErrors, perhaps elsewhere too).
  it.each(CI_KINDS)('%s: the 1.x and the legacy 0.x examples are refused, on /version, by the other schema', (kind) => {
    for (const [example, schema] of [
      [kind, `legacy/${kind}`],
      [`legacy/${kind}`, kind],
    ]) {
      const validate = ajv.getSchema(idOf(schema));
      expect(validate?.(readJson(path.join(EXAMPLE_DIR, `${example}.json`)))).toBe(false);
      expect(validate?.errors).toContainEqual(expect.objectContaining({ instancePath: '/version', keyword: 'pattern' }));
    }
  });
});

describe('examples/messages/invalid', () => {
  // What each invalid example gets wrong: exactly one error, at this place, of this kind.
  // 'parse' means the file is not JSON at all. A new invalid example without an entry here is still
  // checked to be rejected. `count` is for if/then rules: Ajv adds an "if" error after the real one.
  type Expected = 'parse' | { instancePath: string; keyword: string; params?: Record<string, unknown>; count?: number };
  const expectations: Record<string, Expected> = {
    'redhat-container-group.test.queued.missing-images': {
      instancePath: '/artifact',
      keyword: 'required',
      params: { missingProperty: 'images' },
    },
    'redhat-container-group.test.queued.images-empty': { instancePath: '/artifact/images', keyword: 'minItems' },
    'redhat-container-group.test.queued.bad-full-name': { instancePath: '/artifact/images/0/full_name', keyword: 'pattern' },
    'redhat-container-group.test.running.not-json': 'parse',
    'redhat-container-image.test.queued.bad-version': { instancePath: '/version', keyword: 'pattern' },
    'brew-build.test.complete.wrong-type': { instancePath: '/artifact/scratch', keyword: 'type', params: { type: 'boolean' } },
    'brew-build.test.complete.bad-enum': { instancePath: '/test/result', keyword: 'enum' },
    'brew-build.test.complete.missing-result': { instancePath: '/test', keyword: 'required', params: { missingProperty: 'result' } },
    // A pre-0.2 body ("ci" instead of "contact") is refused, not guessed at.
    'legacy/redhat-container-group.test.queued.ci-not-contact': { instancePath: '', keyword: 'required', params: { missingProperty: 'contact' } },
    'legacy/brew-build.test.queued.empty-namespace': { instancePath: '/test/namespace', keyword: 'pattern' },
    'freshmaker.build.state.changed.missing-event-id': { instancePath: '', keyword: 'required', params: { missingProperty: 'event_id' } },
    'freshmaker.event.state.changed.state-mismatch': { instancePath: '/state_name', keyword: 'const', params: { allowedValue: 'COMPLETE' }, count: 2 },
    // Not PASSED or INFO, and not waived (no waived_by): enum, required, their anyOf, and the if.
    'cvp.gate.decision.pass-with-failure': { instancePath: '/reasons/1/outcome', keyword: 'enum', count: 4 },
    'cvp.gate.decision.shadow-released': { instancePath: '/release/action', keyword: 'enum', params: { allowedValues: ['none', 'would_release'] }, count: 2 },
  };
  const invalid = jsonFiles(INVALID_DIR);

  it('has invalid examples', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(6);
  });

  it.each(invalid.map((f) => [relName(INVALID_DIR, f), f]))('%s is rejected', (name, file) => {
    const target = schemaNameFor(name.replace(/\.[^./]+$/, ''));
    const validate = target ? ajv.getSchema(idOf(target)) : undefined;
    if (!validate) throw new Error(`${file}: its name should start with a schema name, but no such schema exists`);
    const expected = expectations[name];

    let body: unknown;
    try {
      body = readJson(file);
    } catch (e) {
      expect(e).toBeInstanceOf(SyntaxError);
      if (expected !== undefined) expect(expected).toBe('parse');
      return;
    }
    if (expected === 'parse') throw new Error(`${file} should not parse as JSON`);

    expect(validate(body)).toBe(false);
    if (expected !== undefined) {
      const { count = 1, ...first } = expected;
      expect(validate.errors).toHaveLength(count);
      expect(validate.errors?.[0]).toMatchObject(first);
    }
  });
});

describe('templates (cvp trigger)', () => {
  const templates: Record<string, string> = {
    'group-testing.json': 'redhat-container-group.test.queued',
    'image.json': 'redhat-container-image.test.queued',
  };

  it.each(Object.entries(templates))('%s is a valid %s once its placeholders are filled', (file, schemaName) => {
    const raw = fs.readFileSync(path.join(TEMPLATE_DIR, file), 'utf8');
    expect(raw).toContain('{{uuid}}');
    expect(raw).toContain('{{now}}');
    const uuid = randomUUID();
    const now = new Date().toISOString();
    const filled = raw.replaceAll('{{uuid}}', uuid).replaceAll('{{now}}', now);
    expect(filled).not.toMatch(/\{\{\w+\}\}/);

    const validate = ajv.getSchema(idOf(schemaName));
    if (!validate) throw new Error(`no schema ${idOf(schemaName)}`);
    const body = JSON.parse(filled) as { generated_at: string; pipeline: { id: string } };
    const ok = validate(body);
    expect(explain(validate.errors)).toBe('');
    expect(ok).toBe(true);
    expect(body.generated_at).toBe(now);
    expect(body.pipeline.id).toContain(uuid);
  });

  it('group-testing.json is Ansible Tower with 3 freshmaker images', () => {
    const t = readJson(path.join(TEMPLATE_DIR, 'group-testing.json')) as {
      artifact: { id: string; component: string; images: { name: string; issuer: string }[] };
    };
    expect(t.artifact.id).toBe('{{uuid}}');
    expect(t.artifact.component).toBe('Ansible Tower');
    expect(t.artifact.images.map((i) => i.name)).toEqual(['ansible-tower', 'ansible-tower-memcached', 'ansible-tower-messaging']);
    expect(t.artifact.images.every((i) => i.issuer === 'freshmaker')).toBe(true);
  });
});

describe('topic + version -> schema', () => {
  // The routing the validator follows: the topic names the kind (`VirtualTopic.eng.ci.<kind>` or
  // `VirtualTopic.eng.<kind>`); a version-less kind has its schema under unversioned/, others are
  // chosen by the major of the body's `version`: 0 -> legacy/<kind>, 1 -> <kind>; nothing else.
  const schemaNameForMessage = (topic: string, version: string | undefined): string | undefined => {
    const kind = /(?:^|[./])VirtualTopic\.eng\.(?:ci\.)?(.+)$/.exec(topic)?.[1];
    if (!kind) return undefined;
    if (topLevelNames.includes(`unversioned/${kind}`)) return `unversioned/${kind}`;
    const major = version === undefined ? undefined : /^(\d+)\.\d+\.\d+$/.exec(version)?.[1];
    const name = major === '0' ? `legacy/${kind}` : major === '1' ? kind : undefined;
    return name && topLevelNames.includes(name) ? name : undefined;
  };

  it.each([
    ['/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued', '1.1.0', 'redhat-container-group.test.queued'],
    ['VirtualTopic.eng.ci.brew-build.test.complete', '1.0.0', 'brew-build.test.complete'],
    ['/queue/Consumer.ansible-tower-qe.cvp.VirtualTopic.eng.ci.redhat-container-image.test.error', '1.1.0', 'redhat-container-image.test.error'],
    ['/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued', '0.2.5', 'legacy/redhat-container-group.test.queued'],
    ['VirtualTopic.eng.ci.brew-build.test.error', '0.1.0', 'legacy/brew-build.test.error'],
    ['/topic/VirtualTopic.eng.freshmaker.event.state.changed', undefined, 'unversioned/freshmaker.event.state.changed'],
    ['/queue/Consumer.ansible-tower-qe.cvp.VirtualTopic.eng.freshmaker.build.state.changed', undefined, 'unversioned/freshmaker.build.state.changed'],
    ['VirtualTopic.eng.cvp.gate.decision', '1.0.0', 'cvp.gate.decision'],
  ])('%s, version %s -> %s', (topic, version, name) => {
    expect(schemaNameForMessage(topic, version)).toBe(name);
    expect(ajv.getSchema(idOf(name))).toBeDefined();
    expect(fs.existsSync(path.join(SCHEMA_DIR, `${name}.json`))).toBe(true);
  });

  it.each([
    ['VirtualTopic.eng.ci.brew-build.test.complete', '2.0.0'],
    ['VirtualTopic.eng.ci.brew-build.test.complete', undefined],
    ['VirtualTopic.eng.cvp.gate.decision', '0.2.5'],
    ['VirtualTopic.eng.ci.koji-build.test.complete', '1.0.0'],
  ])('%s, version %s -> no schema', (topic, version) => {
    expect(schemaNameForMessage(topic, version)).toBeUndefined();
  });
});
