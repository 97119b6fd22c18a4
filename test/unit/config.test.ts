import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import { packageRoot, schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

const validator = new EventValidator(schemasDir);
const knows = (t: string) => validator.knows(t);

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'cvp.yaml', env, knows);
  } catch (err) {
    expect(err).toBeInstanceOf(CvpError);
    return (err as CvpError).reasons;
  }
  throw new Error('expected the configuration to be refused');
}

const base = `
jenkins:
  url: https://jenkins.example.com
  user: cvp-bot
  token: \${JENKINS_TOKEN}
rules:
  - name: tower
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    checks:
      - { field: "$.artifact.component", expected: Ansible Tower }
    job: Pipelines/openshift-integration-pipeline
    parameters:
      TOWER_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower'].full_name | [0]
    report: { testcase: ansible-tower-35.default.integration, per: image }
`;

describe('configuration', () => {
  it('accepts the shipped examples', () => {
    for (const f of ['examples/sandbox.yaml', 'examples/group-testing.yaml']) {
      const loaded = loadConfig(join(packageRoot, f), { JENKINS_TOKEN: 't', SLACK_TOKEN: 's' }, knows);
      expect(loaded.config.rules.length).toBeGreaterThan(0);
    }
  });

  it('substitutes ${VAR} from the environment', () => {
    const loaded = parseConfig(base, 'cvp.yaml', { JENKINS_TOKEN: 'sekrit' }, knows);
    expect(loaded.config.jenkins?.token).toBe('sekrit');
  });

  it('names the file, line and key of an unset variable', () => {
    expect(problems(base)).toEqual(['cvp.yaml:5:10: jenkins.token: environment variable JENKINS_TOKEN is not set (nor JENKINS_TOKEN_FILE)']);
  });

  it('names the file, line and key of an unknown key and of a wrong value', () => {
    const text = base.replace('    job: Pipelines', '    jobb: x\n    job: Pipelines').replace('per: image', 'per: images');
    const p = problems(text, { JENKINS_TOKEN: 't' });
    expect(p).toEqual(expect.arrayContaining([
      'cvp.yaml:11:5: rules[0].jobb: not allowed here (unknown key)',
      expect.stringMatching(/^cvp\.yaml:15:\d+: rules\[0\]\.report\.per: expected one of "image", "artifact", found "images"$/),
    ]));
  });

  it('names a missing required key at its parent', () => {
    const p = problems(base.replace('    report: { testcase: ansible-tower-35.default.integration, per: image }\n', ''), { JENKINS_TOKEN: 't' });
    expect(p).toEqual([expect.stringMatching(/^cvp\.yaml:7:\d+: rules\[0\]: report is required, but missing$/)]);
  });

  it('refuses expressions that do not parse, at start-up', () => {
    const text = base.replace("artifact.images[?name=='ansible-tower'].full_name | [0]", "artifact.images[?name=='ansible-tower'.full_name")
      .replace('expected: Ansible Tower', 'expected: "Ansible (Tower"');
    const p = problems(text, { JENKINS_TOKEN: 't' });
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^cvp\.yaml:13:\d+: rules\[0\]\.parameters\.TOWER_CONTAINER_IMAGE: JMESPath .* does not parse/),
      expect.stringMatching(/^cvp\.yaml:10:\d+: rules\[0\]\.checks\[0\]\.expected: regular expression .* does not compile in Java: unclosed group/),
    ]));
  });

  it('refuses a topic no schema covers and a rule name used twice', () => {
    const rule = base.slice(base.indexOf('  - name: tower'));
    const text = base + rule.replace('redhat-container-group.test.queued', 'koji-build.test.queued');
    const p = problems(text, { JENKINS_TOKEN: 't' });
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/rules\[1\]\.name: rule name "tower" is also used by rules\[0\]/),
      expect.stringMatching(/rules\[1\]\.topic: no schema for topic VirtualTopic\.eng\.ci\.koji-build\.test\.queued/),
    ]));
  });

  it('points at the line of broken YAML', () => {
    const p = problems(base.replace('{ field: "$.artifact.component", expected: Ansible Tower }', '{ field: $.artifact.images[0].issuer, expected: x }'));
    expect(p[0]).toMatch(/^cvp\.yaml:10:\d+: YAML: .*quote/);
  });

  it('says which file it cannot read, and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvp-config-'));
    try {
      expect(() => loadConfig(join(dir, 'missing.yaml'), {}, knows)).toThrow(/missing\.yaml: cannot read the configuration \(no such file\)/);
      writeFileSync(join(dir, 'empty.yaml'), '');
      expect(() => loadConfig(join(dir, 'empty.yaml'), {}, knows)).toThrow(CvpError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the README\'s complete group-testing example valid', () => {
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
    const block = /<!-- config-example -->\s*```yaml\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    const loaded = parseConfig(block![1], 'README.md', { JENKINS_TOKEN: 't', SLACK_TOKEN: 's' }, knows);
    expect(loaded.config.rules[0].name).toBeTruthy();
  });
});

describe('secrets in the configuration', () => {
  it('reads ${VAR} from the file VAR_FILE names, without its final newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvp-secret-'));
    try {
      writeFileSync(join(dir, 'token'), 'from-a-file\n');
      const loaded = parseConfig(base, 'cvp.yaml', { JENKINS_TOKEN_FILE: join(dir, 'token') }, knows);
      expect(loaded.config.jenkins?.token).toBe('from-a-file');
      expect(loaded.secrets).toEqual(['from-a-file']);
      expect(problems(base, { JENKINS_TOKEN_FILE: join(dir, 'missing') })[0]).toMatch(/JENKINS_TOKEN_FILE names .*missing, which cannot be read \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a secret written in the file, unless allowed', () => {
    const inline = base.replace('token: ${JENKINS_TOKEN}', 'token: abc123secret');
    expect(problems(inline)).toEqual([expect.stringMatching(/^cvp\.yaml:5:10: jenkins\.token: a secret written in the file; write \$\{CVP_JENKINS_TOKEN\}/)]);
    const allowed = parseConfig(`allow_inline_secrets: true\n${inline}`, 'cvp.yaml', {}, knows);
    expect(allowed.config.jenkins?.token).toBe('abc123secret');
  });
});
