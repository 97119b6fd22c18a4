/**
 * Results as the standard results updater writes them, and ResultsDB's answers as it gives them:
 * the pieces behind test/integration/greenwave.test.ts, one by one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsDbSink, refusalDetail } from '../../src/adapters/resultsdb/resultsdb-sink';
import { CvpError } from '../../src/errors';
import { knownResult } from '../../src/listener/effects/reporter';
import { pipelineVerdict } from '../../src/listener/intake/pipeline-results';
import { packageRoot, schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { ResultsDbStandIn } from '../stand-ins/resultsdb-stand-in';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
function example(name: string): any {
  return JSON.parse(readFileSync(join(packageRoot, 'examples/messages', name), 'utf8'));
}

describe('what CVP takes in', () => {
  const v = new EventValidator(schemasDir);

  it('reads the namespaced topic form producers use as the kind it names', () => {
    expect(v.kindOf('VirtualTopic.eng.ci.tower-qe.brew-build.test.complete')).toBe('brew-build.test.complete');
    expect(v.kindOf('/topic/VirtualTopic.eng.ci.osci.redhat-container-image.test.error')).toBe('redhat-container-image.test.error');
    expect(v.validate('VirtualTopic.eng.ci.tower-qe.brew-build.test.complete', example('brew-build.test.complete.json'))).toEqual({ valid: true });
    expect(v.knows('VirtualTopic.eng.ci.tower-qe.koji-build.test.complete')).toBe(false);
  });

  it('is no stricter than 0.2.x about generated_at', () => {
    const m = example('legacy/brew-build.test.complete.json');
    m.generated_at = '2018-05-10 08:58:31.222602';
    expect(v.validate('VirtualTopic.eng.ci.brew-build.test.complete', m)).toEqual({ valid: true });
  });

  it('refuses the 0.1 layout with a reason that says why', () => {
    const m = example('legacy/brew-build.test.complete.json');
    m.version = '0.1.0';
    m.ci = m.contact;
    delete m.contact;
    const verdict = v.validate('VirtualTopic.eng.ci.brew-build.test.complete', m);
    expect(verdict).toMatchObject({ valid: false, code: 'UNKNOWN_VERSION' });
    expect((verdict as { reasons: string[] }).reasons[0]).toMatch(/0\.1 layout \(ci instead of contact.*send 0\.2\.x or 1\.x/);
  });
});

describe('a pipeline\'s result, written as the results updater writes it', () => {
  it('keys a scratch build as brew-build_scratch and keeps the updater\'s keys', () => {
    const m = example('brew-build.test.complete.json');
    m.artifact.scratch = 'True';
    m.test.scenario = 'aarch64';
    const r = pipelineVerdict('VirtualTopic.eng.ci.brew-build.test.complete', m, 'ID:1', { JMSXUserID: 'tower-qe-bot' }).result;
    expect(r.data).toMatchObject({
      item: m.artifact.nvr, type: 'brew-build_scratch', scratch: 'true', brew_task_id: String(m.artifact.id), scenario: 'aarch64',
      publisher_id: 'tower-qe-bot', category: m.test.category, ci_name: m.contact.name, msg_id: 'ID:1',
    });
    // Kept apart by scenario and the system's architecture, as Greenwave does.
    expect(knownResult(r, 'ID:1')).toMatchObject({ type: 'brew-build_scratch', scenario: 'aarch64/x86_64' });
  });

  it('keys a container image by its digest with the NVR under nvr', () => {
    const m = example('redhat-container-image.test.complete.json');
    const r = pipelineVerdict('VirtualTopic.eng.ci.redhat-container-image.test.complete', m, 'ID:2').result;
    expect(r.data).toMatchObject({ item: m.artifact.id, type: 'redhat-container-image', nvr: m.artifact.nvr, full_names: m.artifact.full_names });
  });

  it('writes ERROR with the reason cut as the updater cuts it, and the test case\'s docs as its ref_url', () => {
    const m = example('brew-build.test.error.json');
    m.error = { reason: 'x'.repeat(400), issue_url: 'https://issues.example.com/1' };
    m.test.docs = 'https://docs.example.com/t';
    const v = pipelineVerdict('VirtualTopic.eng.ci.brew-build.test.error', m, 'ID:3');
    expect(v.outcome).toBe('ERROR');
    expect(v.result.data.error_reason).toHaveLength(256);
    expect(v.result.data.issue_url).toBe('https://issues.example.com/1');
    expect(v.result.testcase.ref_url).toBe('https://docs.example.com/t');
    expect(v.result.ref_url).toBe(m.run.url);
  });

  it('keeps results of different scenarios and architectures apart for the gate', () => {
    const base = { testcase: { name: 't' }, outcome: 'PASSED' };
    expect(knownResult({ ...base, data: { item: 'i', type: 'brew-build' } }, null).scenario).toBeNull();
    expect(knownResult({ ...base, data: { item: 'i', type: 'brew-build', system_architecture: 'aarch64' } }, null).scenario).toBe('/aarch64');
    expect(knownResult({ ...base, data: { item: 'i', type: 'brew-build', scenario: ['fips'] } }, null).scenario).toBe('fips');
  });
});

describe('ResultsDB\'s answers', () => {
  it('reads both shapes of a refused body', () => {
    const issue = { type: 'missing', loc: ['body', 'outcome'], msg: 'Field required', input: {} };
    expect(refusalDetail({ validation_error: [issue] }, '')).toBe('body.outcome: Field required');
    expect(refusalDetail({ validation_error: { body_params: [issue] } }, '')).toBe('body.outcome: Field required');
    expect(refusalDetail({ message: 'Colon not allowed in key name' }, '')).toBe('Colon not allowed in key name');
  });

  it('retries the 500 of a new test case race: transient, and the next attempt lands', async () => {
    const rdb = new ResultsDbStandIn();
    await rdb.start();
    try {
      const sink = new ResultsDbSink({ url: `${rdb.url}/api/v2.0`, requestTimeoutMs: 5_000 });
      const result = { testcase: { name: 'new.testcase.here' }, outcome: 'PASSED', data: { item: 'nvr-1', type: 'brew-build' } };
      rdb.raceOnNewTestcase(1);
      const err = await sink.submit(result).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CvpError);
      expect((err as CvpError).permanent).toBe(false);
      await expect(sink.submit(result)).resolves.toEqual({ id: 1 });
      // A refusal names the field: permanent.
      const refused = await sink.submit({ ...result, outcome: 'SKIPPED' }).catch((e: unknown) => e);
      expect((refused as CvpError).permanent).toBe(true);
      expect((refused as CvpError).message).toMatch(/outcome/);
    } finally {
      await rdb.stop();
    }
  });
});
