import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTlsFiles } from '../../src/cli/tls-files';
import { loadConfig, parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import { packageRoot } from '../../src/paths';
import { configProblems as problems, knows } from '../support/config-problems';



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

  it('says to quote ${VAR} inside { }', () => {
    const p = problems(base.replace('  token: ${JENKINS_TOKEN}', '  token: ${JENKINS_TOKEN}\nslack: { token: ${SLACK_TOKEN}, channel: "#x" }'));
    expect(p[0]).toMatch(/^cvp\.yaml:6:\d+: YAML: .* \(inside \{ \} a value with \{ or \}, such as \$\{VAR\}, must be quoted\)$/);
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

describe('problems found after loading, at their place in the file', () => {
  it('says where any key is written, and its parent\'s place when it is not', () => {
    const loaded = parseConfig(`intake:\n  host: 127.0.0.1\n  port: 8080\n${base}`, 'cvp.yaml', { JENKINS_TOKEN: 't' }, knows);
    expect(loaded.at(['intake', 'port'])).toBe('cvp.yaml:3:9: intake.port');
    expect(loaded.at(['rules', 0, 'report', 'per'])).toMatch(/^cvp\.yaml:17:\d+: rules\[0\]\.report\.per$/);
    expect(loaded.at(['intake', 'enabled'])).toBe('cvp.yaml:2:3: intake.enabled');
  });

  describe('TLS files', () => {
    let dir: string;
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cvp-tls-config-'));
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=client', '-keyout', 'client.key', '-out', 'client.crt');
      openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'other.key');
      openssl('pkey', '-in', 'client.key', '-aes256', '-passout', 'pass:right-one', '-out', 'encrypted.key');
      writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Writes a config whose bus.tls is `tls` (line 3) and checks its files as `cvp config check` does. */
    function tlsProblems(tls: string, env: Record<string, string> = {}, brokers = '[{ host: broker.example.com, port: 61612 }]'): string[] {
      const file = join(dir, 'cvp.yaml');
      const text = `bus:\n  brokers: ${brokers}\n  tls: ${tls}\n  consumer: Consumer.cvp.test\n  dead_letter: /queue/dead\n${base}`;
      const loaded = parseConfig(text, file, { JENKINS_TOKEN: 't', ...env }, knows);
      try {
        checkTlsFiles(loaded, Date.now());
      } catch (err) {
        expect(err).toBeInstanceOf(CvpError);
        return (err as CvpError).reasons.map((r) => r.replaceAll(file, 'cvp.yaml').replaceAll(dir, 'DIR'));
      }
      return [];
    }

    it('accepts readable files that belong together', () => {
      expect(tlsProblems('{ cert: client.crt, key: client.key, ca: client.crt }')).toEqual([]);
      expect(tlsProblems('{ cert: client.crt, key: encrypted.key, ca: client.crt, passphrase: "${CVP_TLS_PASSPHRASE}" }', { CVP_TLS_PASSPHRASE: 'right-one' })).toEqual([]);
    });

    it('names every file that cannot be read, each at its key', () => {
      expect(tlsProblems('{ cert: tls/tls.crt, key: tls/tls.key, ca: tls/ca.crt }')).toEqual([
        'cvp.yaml:3:16: bus.tls.cert: cannot read DIR/tls/tls.crt (no such file)',
        'cvp.yaml:3:34: bus.tls.key: cannot read DIR/tls/tls.key (no such file)',
        'cvp.yaml:3:51: bus.tls.ca: cannot read DIR/tls/ca.crt (no such file)',
      ]);
    });

    it('names the passphrase or the key when the key cannot be used', () => {
      expect(tlsProblems('{ cert: client.crt, key: encrypted.key }')).toEqual([
        'cvp.yaml:3:33: bus.tls.key: encrypted.key is encrypted and no passphrase is set (passphrase: ${CVP_TLS_PASSPHRASE})',
      ]);
      const wrong = tlsProblems('{ cert: client.crt, key: encrypted.key, passphrase: "${CVP_TLS_PASSPHRASE}" }', { CVP_TLS_PASSPHRASE: 'not-it' });
      expect(wrong).toEqual([expect.stringMatching(/^cvp\.yaml:3:\d+: bus\.tls\.passphrase: the key encrypted\.key cannot be decrypted with this passphrase$/)]);
      expect(tlsProblems('{ cert: client.crt, key: other.key }')).toEqual(['cvp.yaml:3:33: bus.tls.key: the key other.key does not belong to the certificate client.crt']);
      expect(tlsProblems('{ cert: client.crt, key: junk.pem }')).toEqual([expect.stringMatching(/^cvp\.yaml:3:33: bus\.tls\.key: junk\.pem is not a PEM private key \(/)]);
    });

    it('names a certificate or CA file that holds no certificate, and a certificate without its key', () => {
      expect(tlsProblems('{ cert: junk.pem, key: client.key }')).toEqual([expect.stringMatching(/^cvp\.yaml:3:16: bus\.tls\.cert: junk\.pem is not a PEM certificate/)]);
      expect(tlsProblems('{ cert: client.crt, key: client.key, ca: junk.pem }')).toEqual([expect.stringMatching(/^cvp\.yaml:3:\d+: bus\.tls\.ca: junk\.pem is not a PEM certificate/)]);
      expect(tlsProblems('{ cert: client.crt }')).toEqual(['cvp.yaml:3:8: bus.tls: a client certificate needs both cert and key: key is missing']);
    });

    it('names a broker\'s own TLS settings by the broker', () => {
      const brokers = '[{ host: a.example.com, port: 61612 }, { host: b.example.com, port: 61612, tls: { cert: b.crt, key: client.key } }]';
      expect(tlsProblems('{ cert: client.crt, key: client.key }', {}, brokers)).toEqual(['cvp.yaml:2:100: bus.brokers[1].tls.cert: cannot read DIR/b.crt (no such file)']);
    });
  });
});
