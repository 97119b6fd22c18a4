/**
 * The event schemas (schemas/events, ci-messages 1.x), their examples (examples/messages) and the
 * `cvp trigger` templates (templates/) agree with one another.
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

function jsonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []))
    .sort();
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** `examples/messages/x.json` -> `x`; `invalid/<schema>.<mistake>.json` -> `<schema>`. */
const baseName = (file: string): string => path.basename(file, '.json');
const invalidTarget = (file: string): string => baseName(file).replace(/\.[^.]+$/, '');
const idOf = (schemaName: string): string => `${ID_BASE}${schemaName}.json`;

function explain(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('\n');
}

// Every file under schemas/events, added by $id; the top-level schemas are those outside defs/.
const schemaFiles = jsonFiles(SCHEMA_DIR);
const topLevelFiles = schemaFiles.filter((f) => !path.relative(SCHEMA_DIR, f).split(path.sep).includes('defs'));
const topLevelNames = topLevelFiles.map((f) => path.relative(SCHEMA_DIR, f).replace(/\.json$/, '').split(path.sep).join('/'));

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

  it('has one schema per <artifact-type>.test.<stage>', () => {
    const expected = ARTIFACT_TYPES.flatMap((t) => STAGES.map((s) => `${t}.test.${s}`));
    expect(topLevelNames.filter((n) => !n.includes('/')).sort()).toEqual(expected.sort());
  });

  it.each(topLevelNames)('%s compiles in strict mode', (name) => {
    const validate = ajv.getSchema(idOf(name));
    expect(validate).toBeDefined();
    expect(typeof validate?.schema).toBe('object');
  });
});

describe('examples/messages (valid)', () => {
  const examples = jsonFiles(EXAMPLE_DIR).filter((f) => path.dirname(f) === EXAMPLE_DIR);

  it('has one example per top-level schema', () => {
    expect(examples.map(baseName).sort()).toEqual(topLevelNames.filter((n) => !n.includes('/')).sort());
  });

  it.each(examples.map((f) => [baseName(f), f]))('%s is valid against the schema of the same name', (name, file) => {
    const validate = ajv.getSchema(idOf(name));
    if (!validate) throw new Error(`no schema ${idOf(name)} for ${file}`);
    const ok = validate(readJson(file));
    expect(explain(validate.errors)).toBe('');
    expect(ok).toBe(true);
  });
});

describe('examples/messages/invalid', () => {
  // What each invalid example gets wrong: exactly one error, at this place, of this kind.
  // 'parse' means the file is not JSON at all. A new invalid example without an entry here is still
  // checked to be rejected.
  type Expected = 'parse' | { instancePath: string; keyword: string; params?: Record<string, unknown> };
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
  };
  const invalid = jsonFiles(INVALID_DIR);

  it('has invalid examples', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(6);
  });

  it.each(invalid.map((f) => [baseName(f), f]))('%s is rejected', (name, file) => {
    const target = invalidTarget(file);
    const validate = ajv.getSchema(idOf(target));
    if (!validate) throw new Error(`${file}: its name should start with a schema name, but ${idOf(target)} does not exist`);
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
      expect(validate.errors).toHaveLength(1);
      expect(validate.errors?.[0]).toMatchObject(expected);
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

describe('topic -> schema', () => {
  // The suffix <artifact-type>.test.<stage> of a ci-messages topic names the schema file.
  const schemaIdForTopic = (topic: string): string | undefined => {
    const m = /(?:^|[./])eng\.ci\.([a-z0-9-]+\.test\.(?:queued|running|complete|error))$/.exec(topic);
    return m ? idOf(m[1]) : undefined;
  };

  it.each([
    ['/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued', 'redhat-container-group.test.queued'],
    ['VirtualTopic.eng.ci.brew-build.test.complete', 'brew-build.test.complete'],
    ['/queue/Consumer.ansible-tower-qe.cvp.VirtualTopic.eng.ci.redhat-container-image.test.error', 'redhat-container-image.test.error'],
  ])('%s -> %s', (topic, name) => {
    const id = schemaIdForTopic(topic);
    expect(id).toBe(idOf(name));
    expect(ajv.getSchema(id as string)).toBeDefined();
    expect(fs.existsSync(path.join(SCHEMA_DIR, `${name}.json`))).toBe(true);
  });
});
