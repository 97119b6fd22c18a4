/**
 * CVP's ci-messages schemas and examples held against the standard they follow: the published
 * ci-messages 0.2.5 schemas and the empty message templates of a pipeline library, both read at
 * test time from the copies kept in test/fixtures/upstream (see test/support/upstream-schemas.ts for the repairs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  PACKAGE_ROOT,
  STUBBED_UPSTREAM_FILES,
  TEMPLATES_DIR,
  UPSTREAM_DIR,
  fixRef,
  missingUpstreamFiles,
  readUpstreamFiles,
  refsOf,
  repairedUpstreamSchemas,
  requireReferenceDir,
  upstreamValidator,
  type Schema,
} from '../support/upstream-schemas';

const SCHEMA_DIR = path.join(PACKAGE_ROOT, 'schemas', 'events');
const EXAMPLE_DIR = path.join(PACKAGE_ROOT, 'examples', 'messages');
const STAGES = ['queued', 'running', 'complete', 'error'];
const CI_KINDS = ['redhat-container-group', 'redhat-container-image', 'brew-build'].flatMap((t) => STAGES.map((s) => `${t}.test.${s}`));
// CVP's two ci-messages versions: 1.x at top level, 0.x under legacy/ (schemas and examples alike).
const VERSIONS: [string, string][] = [['1.x', ''], ['0.x', 'legacy']];

// The published fragments that are not JSON pointers, and what they become (in memory only).
const REF_FIXES: Record<string, string> = {
  'common.json#properties/generated_at': 'common.json#/properties/generated_at',
  'common.json#properties/version': 'common.json#/properties/version',
};

type Body = Record<string, unknown>;
const readJson = <T = Body>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const stageOf = (kind: string): string => kind.slice(kind.lastIndexOf('.') + 1);
const example = (folder: string, kind: string): Body => readJson(path.join(EXAMPLE_DIR, folder, `${kind}.json`));

/**
 * The upstream parts a body is made of, with the body's values. `system` is left out: upstream's
 * system.json is missing (stubbed), so such a check could not fail. A Brew build is upstream's
 * rpm-build; container artifacts have no upstream schema.
 */
function partsOf(kind: string, body: Body): [string, unknown][] {
  const parts: [string, unknown][] = [['common', body], ['contact', body.contact], ['run', body.run], ['pipeline', body.pipeline], ['test-common', body.test]];
  if (stageOf(kind) === 'complete') parts.push(['test-complete', body.test]);
  if (stageOf(kind) === 'error') parts.push(['error', body.error]);
  if (kind.startsWith('brew-build.')) parts.push(['rpm-build', body.artifact]);
  return parts;
}

/**
 * Upstream 0.2.5 has top-level schemas for koji-build-group only, so the body is given that
 * artifact: a Brew build becomes the one build of the group; for container artifacts an empty
 * group stands in, and only the rest of the body is checked.
 */
function asUpstreamGroup(kind: string, body: Body): Body {
  const builds = kind.startsWith('brew-build.') ? [body.artifact] : [];
  return { ...body, artifact: { type: 'brew-build-group', id: 'cvp-example', builds, repository: 'https://cvp.example.com/repo' } };
}

const verdictsOf = (kind: string, body: Body) =>
  partsOf(kind, body).map(([part, value]) => ({ part, ...upstreamValidator().validatePart(part, value) }));

describe('the upstream ci-messages 0.2.5 schemas (test/fixtures/upstream)', () => {
  const files = readUpstreamFiles();

  it('are kept in the repository, and a missing folder fails with a clear message', () => {
    expect(requireReferenceDir(UPSTREAM_DIR)).toBe(UPSTREAM_DIR);
    expect(() => requireReferenceDir(path.join(UPSTREAM_DIR, 'nope'))).toThrow(/Reference folder not found: .*test\/fixtures\/upstream\/ \(see its README\.md\)/);
  });

  it('are draft-07 schemas (hence the default ajv export)', () => {
    expect(files.size).toBeGreaterThan(0);
    for (const [name, schema] of files) expect([name, schema.$schema]).toEqual([name, 'http://json-schema.org/draft-07/schema#']);
  });

  it('refer to exactly the documented missing files, which are stubbed', () => {
    expect(missingUpstreamFiles(files)).toEqual([...STUBBED_UPSTREAM_FILES]);
    const repaired = repairedUpstreamSchemas();
    for (const name of STUBBED_UPSTREAM_FILES) expect(repaired.get(name)).toEqual({ $id: name });
  });

  it('have exactly the documented broken fragments, which point into their files once fixed', () => {
    const broken = [...new Set([...files.values()].flatMap(refsOf).filter((r) => fixRef(r) !== r))].sort();
    expect(broken).toEqual(Object.keys(REF_FIXES).sort());
    for (const [ref, fixed] of Object.entries(REF_FIXES)) {
      expect(fixRef(ref)).toBe(fixed);
      const [file, pointer] = fixed.split('#');
      const target = pointer.split('/').slice(1).reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], files.get(file));
      expect(target).toEqual(expect.objectContaining({ type: 'string' }));
    }
  });

  it('are registered under their file names, since their $ids do not match their $refs', () => {
    expect(files.get('test-common.json')?.$id).toBe('test');
    for (const [name, schema] of repairedUpstreamSchemas()) expect(schema.$id).toBe(name);
  });

  it.each(upstreamValidator().kinds)('%s compiles and refuses an empty message', (kind) => {
    const verdict = upstreamValidator().validateTop(kind, {});
    expect(verdict.valid).toBe(false);
    expect(verdict.errors).toContain("/ must have required property 'contact'");
  });
});

describe.each(VERSIONS)('CVP %s examples against upstream 0.2.5', (_version, folder) => {
  it.each(CI_KINDS)('%s: each part passes its upstream schema', (kind) => {
    const verdicts = verdictsOf(kind, example(folder, kind));
    expect(verdicts.length).toBeGreaterThanOrEqual(5);
    for (const v of verdicts) expect(v).toEqual({ part: v.part, valid: true, errors: [] });
  });

  it.each(CI_KINDS)('%s: passes upstream koji-build-group.test.<stage> in upstream artifact shape', (kind) => {
    const verdict = upstreamValidator().validateTop(`koji-build-group.test.${stageOf(kind)}`, asUpstreamGroup(kind, example(folder, kind)));
    expect(verdict).toEqual({ valid: true, errors: [] });
  });

  // The same checks can fail: a broken copy of each example is refused.
  it.each(CI_KINDS)('%s: upstream refuses it without a pipeline, or with a bad contact email', (kind) => {
    const { pipeline: _pipeline, ...body } = example(folder, kind);
    const top = upstreamValidator().validateTop(`koji-build-group.test.${stageOf(kind)}`, asUpstreamGroup(kind, body));
    expect(top.errors).toEqual(["/ must have required property 'pipeline'"]);
    const contact = { ...(body.contact as Body), email: 'not an address' };
    expect(upstreamValidator().validatePart('contact', contact).errors).toEqual(['/email must match format "email"']);
  });
});

/** `required` of a CVP schema file, following a top-level `$ref` (test-complete -> test, legacy wrappers -> 1.x). */
function requiredOf(file: string): string[] {
  const schema = readJson<{ required?: string[]; $ref?: string }>(file);
  const inherited = schema.$ref && !schema.$ref.includes('#') ? requiredOf(path.resolve(path.dirname(file), schema.$ref)) : [];
  return [...new Set([...inherited, ...(schema.required ?? [])])].sort();
}

/** `required` of the schema a property of a CVP message schema refers to (`defs/x.json`). */
function requiredOfProperty(schemaFile: string, property: string): string[] {
  const ref = readJson<{ properties: Record<string, { $ref: string }> }>(schemaFile).properties[property].$ref;
  return requiredOf(path.resolve(path.dirname(schemaFile), ref));
}

const upstreamRequired = (...names: string[]): string[] =>
  [...new Set(names.flatMap((n) => (readUpstreamFiles().get(`${n}.json`)?.required as string[] | undefined) ?? []))].sort();

// Which upstream part(s) each property of a CVP ci-messages body corresponds to.
const UPSTREAM_PARTS = (kind: string): Record<string, string[]> => ({
  contact: ['contact'],
  run: ['run'],
  pipeline: ['pipeline'],
  test: stageOf(kind) === 'complete' ? ['test-common', 'test-complete'] : ['test-common'],
  ...(stageOf(kind) === 'error' ? { error: ['error'] } : {}),
  ...(kind.startsWith('brew-build.') ? { artifact: ['rpm-build'] } : {}),
});

describe.each(VERSIONS)('CVP %s schemas require what upstream 0.2.5 requires', (_version, folder) => {
  const schemaFile = (kind: string): string => path.join(SCHEMA_DIR, folder, `${kind}.json`);

  it.each(CI_KINDS)('%s: the same top-level keys as koji-build-group.test.<stage>', (kind) => {
    expect(requiredOf(schemaFile(kind))).toEqual(upstreamRequired(`koji-build-group.test.${stageOf(kind)}`));
  });

  it.each(CI_KINDS)('%s: the same keys in each part', (kind) => {
    for (const [property, parts] of Object.entries(UPSTREAM_PARTS(kind))) {
      expect([property, requiredOfProperty(schemaFile(kind), property)]).toEqual([property, upstreamRequired(...parts)]);
    }
  });

  it('the same test categories and results', () => {
    const enumOf = (file: string, key: string) => readJson<{ properties: Record<string, { enum?: string[] }> }>(file).properties[key].enum;
    const upstream = readUpstreamFiles();
    const upstreamEnum = (file: string, key: string) => (upstream.get(file)?.properties as Record<string, { enum: string[] }>)[key].enum;
    const defs = path.join(SCHEMA_DIR, folder, 'defs');
    expect(enumOf(path.join(defs, 'test.json'), 'category')).toEqual(upstreamEnum('test-common.json', 'category'));
    // 1.x keeps result's enum in test.json's $defs, 0.x in test-complete.json.
    const cvpResult = folder ? enumOf(path.join(defs, 'test-complete.json'), 'result') : readJson<{ $defs: { result: { enum: string[] } } }>(path.join(defs, 'test.json')).$defs.result.enum;
    expect(cvpResult).toEqual(upstreamEnum('test-complete.json', 'result'));
  });
});

describe('the empty message templates (test/fixtures/upstream/ci-message-templates)', () => {
  const template = (name: string): Body => readJson(path.join(requireReferenceDir(TEMPLATES_DIR), `${name}-template.json`));
  // Families in the 0.2.x layout (contact, run, pipeline, test). Left out on purpose:
  // rh-pull-request, the pre-0.2 flat layout CVP does not accept (checked below), and
  // fedora-update.test.running, published as an empty object.
  // Deliberate differences, in value types only: koji-build's artifact.id is "" where rpm-build.json
  // and CVP say integer, and pull-request's system label is "" where CVP 1.x wants a list (0.x takes both).
  const FAMILIES = ['fedora-update', 'koji-build', 'pull-request', 'redhat-module'];
  const cases = VERSIONS.flatMap(([version, folder]) =>
    CI_KINDS.flatMap((kind) =>
      FAMILIES.filter((f) => `${f}.test.${stageOf(kind)}` !== 'fedora-update.test.running').map((f) => [version, kind, `${f}.test.${stageOf(kind)}`, folder]),
    ),
  );

  it.each(cases)('CVP %s %s requires only keys the %s template has, at top level and in each part', (_v, kind, name, folder) => {
    const file = path.join(SCHEMA_DIR, folder, `${kind}.json`);
    const t = template(name);
    expect(requiredOf(file).filter((k) => !(k in t))).toEqual([]);
    const parts = Object.keys(UPSTREAM_PARTS(kind)).filter((p) => p !== 'artifact' || name.startsWith('koji-build'));
    for (const part of parts) {
      const keys = Object.keys((t[part] ?? {}) as Body);
      expect([part, requiredOfProperty(file, part).filter((k) => !keys.includes(k))]).toEqual([part, []]);
    }
  });

  it('leaves out the right templates: rh-pull-request is the pre-0.2 layout, fedora-update running is empty', () => {
    for (const stage of STAGES) {
      const t = template(`rh-pull-request.test.${stage}`);
      expect(Object.keys(t)).toEqual(expect.arrayContaining(['ci', 'namespace', 'type', 'category']));
      expect(t).not.toHaveProperty('contact');
    }
    expect(template('fedora-update.test.running')).toEqual({});
  });
});
