/**
 * The Jenkins side (jenkins/): every Groovy file and Jenkinsfile compiles; the vars steps and the
 * pipelines behave as specified when run under plain Groovy with stand-in pipeline steps
 * (jenkins/test/VarsTest.groovy); and every message they send is valid against the project's event
 * schemas (schemas/events), the contract the CVP daemon and the gating side read.
 * Two JVM starts, in parallel: the compile check and the behaviour tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describeRun, runGroovy, type GroovyRun } from '../support/groovy';

const ROOT = path.resolve(__dirname, '..', '..');
const JENKINS = path.join(ROOT, 'jenkins');
const SCHEMA_DIR = path.join(ROOT, 'schemas', 'events');
const QUEUED_EXAMPLE = path.join(ROOT, 'examples', 'messages', 'redhat-container-group.test.queued.json');
const BREW_EXAMPLE = path.join(ROOT, 'examples', 'messages', 'brew-build.test.complete.json');
const VARS_TEST = path.join(JENKINS, 'test', 'VarsTest.groovy');
const ID_BASE = 'https://cvp.example.com/schemas/events/';

/** Every file Jenkins compiles: *.groovy and Jenkinsfiles, relative to jenkins/, sorted. */
function groovySources(dir = JENKINS): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return groovySources(full);
      return /\.groovy$|(^|\.)Jenkinsfile$/.test(e.name) ? [path.relative(JENKINS, full).split(path.sep).join('/')] : [];
    })
    .sort();
}

function jsonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []))
    .sort();
}

const explain = (errors: ErrorObject[] | null | undefined): string =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ');

interface CompileReport {
  files: Array<{ file: string; errors: Array<{ line: number; column: number; message: string }> }>;
}
interface VarsReport {
  cases: Array<{ name: string; ok: boolean; error: string | null }>;
  messages: number;
  /** "<major>:<step or symbol>" of every JMS Messaging call the strict binding checked. */
  pluginCalls: string[];
}

/** The plugin's step and describable names, per major, generated from its source (jenkins/test/binding/). */
interface BindingTable {
  plugin: string;
  majors: Record<string, { tag: string; commit: string; describables: Record<string, { kind: string; class: string; parameters: Record<string, string> }> }>;
}
const BINDING_FILE = path.join(JENKINS, 'test', 'binding', 'jms-plugin-steps.json');
const PLUGIN_STEPS = ['sendCIMessage', 'waitForCIMessage', 'ciBuildTrigger', 'activeMQSubscriber', 'activeMQPublisher'];
/** The only files that call the plugin: every other file goes through their steps. */
const PLUGIN_CALLERS = ['vars/cvpCiTrigger.groovy', 'vars/cvpSendMessage.groovy', 'vars/cvpWaitForMessage.groovy'];

/** Groovy source without its comments and string literals' contents (enough to find calls). */
function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''")
    .replace(/\/\/.*$/gm, '');
}
interface SentMessage {
  case: string;
  topic: string;
  properties: string;
  content: string;
}

const sources = groovySources();
let outDir = '';
let compileRun: GroovyRun;
let varsRun: GroovyRun;
let wallMs = 0;

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvp-jenkins-'));
  const started = Date.now();
  [compileRun, varsRun] = await Promise.all([
    runGroovy([path.join(JENKINS, 'test', 'CompileAll.groovy'), JENKINS, ...sources], { cwd: JENKINS }),
    runGroovy(
      ['-cp', [path.join(JENKINS, 'src'), path.join(JENKINS, 'test')].join(path.delimiter), VARS_TEST, JENKINS, QUEUED_EXAMPLE, BREW_EXAMPLE, outDir],
      { cwd: JENKINS },
    ),
  ]);
  wallMs = Date.now() - started;
  console.log(`groovy: compile check ${compileRun.ms} ms, behaviour tests ${varsRun.ms} ms, ${wallMs} ms wall (2 JVMs in parallel)`);
});

afterAll(() => {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

describe('jenkins/ (shared library and pipelines)', () => {
  it('has the library steps, the pipelines and the Groovy tests where Jenkins and the test expect them', () => {
    expect(sources).toEqual(
      expect.arrayContaining([
        'vars/cvpEvent.groovy',
        'vars/cvpReport.groovy',
        'vars/cvpResultOf.groovy',
        'pipelines/validator.Jenkinsfile',
        'pipelines/trigger.Jenkinsfile',
        'pipelines/listener.Jenkinsfile',
        'test/VarsTest.groovy',
        'test/CompileAll.groovy',
      ]),
    );
  });

  it('compiles every Groovy file and Jenkinsfile (errors as file:line:column)', () => {
    if (compileRun.code !== 0) throw new Error(`the compile check did not finish:\n${describeRun(compileRun)}`);
    const report = JSON.parse(compileRun.stdout) as CompileReport;
    expect(report.files.map((f) => f.file).sort()).toEqual(sources);
    const errors = report.files.flatMap((f) => f.errors.map((e) => `jenkins/${f.file}:${e.line}:${e.column}: ${e.message.trim()}`));
    expect(errors).toEqual([]);
  });

  it('runs the vars steps and the pipelines under Groovy: every case of VarsTest.groovy passes', () => {
    const reportFile = path.join(outDir, 'report.json');
    if (varsRun.code !== 0 || !fs.existsSync(reportFile)) throw new Error(`VarsTest.groovy failed:\n${describeRun(varsRun)}`);
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as VarsReport;
    const declared = (fs.readFileSync(VARS_TEST, 'utf8').match(/^test\(/gm) ?? []).length;
    expect(declared).toBeGreaterThan(0);
    expect(report.cases).toHaveLength(declared);
    expect(report.cases.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`)).toEqual([]);
  });

  describe('binding to the JMS Messaging plugin (strict: names and shapes from the plugin\'s source, both majors)', () => {
    const table = JSON.parse(fs.readFileSync(BINDING_FILE, 'utf8')) as BindingTable;

    it('has the generated table of step and describable parameters for the 1.x and 2.x tags', () => {
      expect(table.plugin).toBe('jenkinsci/jms-messaging-plugin');
      expect(Object.keys(table.majors).sort()).toEqual(['1', '2']);
      expect(table.majors['1'].tag).toMatch(/^parent-1\./);
      expect(table.majors['2'].tag).toMatch(/^parent-2\./);
      for (const major of ['1', '2']) {
        expect(table.majors[major].commit).toMatch(/^[0-9a-f]{40}$/);
        for (const name of [...PLUGIN_STEPS, 'MessagingProviderOverrides', 'MsgCheck']) {
          expect(Object.keys(table.majors[major].describables[name]?.parameters ?? {})).not.toHaveLength(0);
        }
      }
      // The differences the library must follow (read in CIMessageSenderStep, CIBuildTrigger at both tags).
      expect(Object.keys(table.majors['1'].describables.sendCIMessage.parameters)).toContain('providerName');
      expect(Object.keys(table.majors['2'].describables.sendCIMessage.parameters)).toEqual(['providerData']);
      expect(Object.keys(table.majors['1'].describables.ciBuildTrigger.parameters)).toContain('providerList');
      expect(table.majors['2'].describables.ciBuildTrigger.parameters.providers).toBe('List<ProviderData>');
      expect(table.majors['1'].describables.MsgCheck.parameters).toEqual({ expectedValue: 'String', field: 'String' });
    });

    it('calls the plugin only from the three steps made for it, and never msgCheck (Job DSL only)', () => {
      const offenders: string[] = [];
      for (const file of sources.filter((f) => !f.startsWith('test/'))) {
        const code = codeOf(fs.readFileSync(path.join(JENKINS, file), 'utf8'));
        if (/\bmsgCheck\s*\(/.test(code)) offenders.push(`${file}: msgCheck(...) exists only in Job DSL; in Pipeline checks are [field:, expectedValue:] maps`);
        for (const step of PLUGIN_STEPS) {
          if (new RegExp(`\\b${step}\\s*\\(`).test(code) && !PLUGIN_CALLERS.includes(file)) offenders.push(`${file}: calls ${step}(...) directly; use cvpSendMessage, cvpCiTrigger or cvpWaitForMessage`);
        }
      }
      expect(offenders).toEqual([]);
    });

    it('exercised every plugin call of the library under both majors, each checked against the table', () => {
      const report = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8')) as VarsReport;
      const expected = ['1', '2'].flatMap((m) => ['sendCIMessage', 'waitForCIMessage', 'ciBuildTrigger', 'activeMQSubscriber'].map((s) => `${m}:${s}`));
      expect(report.pluginCalls).toEqual(expect.arrayContaining([...expected, '2:activeMQPublisher']));
    });
  });

  describe('messages the library sent in those cases', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    for (const file of jsonFiles(SCHEMA_DIR)) ajv.addSchema(JSON.parse(fs.readFileSync(file, 'utf8')) as object);

    const sent = (): Array<{ file: string; message: SentMessage }> => {
      const dir = path.join(outDir, 'messages');
      if (!fs.existsSync(dir)) throw new Error(`VarsTest.groovy wrote no messages:\n${describeRun(varsRun)}`);
      return fs
        .readdirSync(dir)
        .sort()
        .map((name) => ({ file: name, message: JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as SentMessage }));
    };

    it('were all written out for checking', () => {
      const report = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8')) as VarsReport;
      expect(report.messages).toBeGreaterThan(0);
      expect(sent()).toHaveLength(report.messages);
    });

    it('are each valid against schemas/events/<kind>.json for their topic VirtualTopic.eng.ci.<kind>', () => {
      const problems: string[] = [];
      const messages = sent();
      expect(messages.length).toBeGreaterThan(0);
      for (const { file, message } of messages) {
        const kind = /^VirtualTopic\.eng\.ci\.([a-z-]+\.test\.(?:queued|running|complete|error))$/.exec(message.topic)?.[1];
        const validate = kind ? ajv.getSchema(`${ID_BASE}${kind}.json`) : undefined;
        if (!validate) {
          problems.push(`${file} (${message.case}): no schema for topic '${message.topic}'`);
          continue;
        }
        let body: unknown;
        try {
          body = JSON.parse(message.content);
        } catch (err) {
          problems.push(`${file} (${message.case}): content is not JSON: ${(err as Error).message}`);
          continue;
        }
        if (!validate(body)) problems.push(`${file} (${message.case}) ${kind}: ${explain(validate.errors)}`);
      }
      expect(problems).toEqual([]);
    });

    it('cover every kind the library sends: brew-build and group complete/error, group queued', () => {
      const kinds = new Set(sent().map(({ message }) => message.topic.replace(/^VirtualTopic\.eng\.ci\./, '')));
      expect([...kinds].sort()).toEqual([
        'brew-build.test.complete',
        'brew-build.test.error',
        'redhat-container-group.test.complete',
        'redhat-container-group.test.error',
        'redhat-container-group.test.queued',
      ]);
    });
  });
});
