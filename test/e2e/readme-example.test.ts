/**
 * The README's complete configuration example passes `cvp config check` the way the README says:
 * the example as printed, saved where the README's lines say, then those lines run by a shell in
 * the repository (they make a throw-away certificate with openssl and call `npx cvp`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';

const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');

/** The fenced block right after `<!-- marker -->`. */
function blockAfter(marker: string, language: string): string {
  const m = new RegExp(`<!-- ${marker} -->\\s*\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no \`\`\`${language} block after <!-- ${marker} -->`);
  return m[1];
}

describe("the README's complete example", () => {
  const example = blockAfter('config-example', 'yaml');
  const check = blockAfter('config-example-check', 'sh');
  // Where the README's lines say to save it: the folder its first line makes, as cvp.yaml.
  const folder = /^mkdir -p (\S+)\/tls && cd (\S+)\s/.exec(check);
  const dir = join(packageRoot, folder?.[2] ?? 'var/example');

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says where to save it and how to check it', () => {
    expect(folder).not.toBeNull();
    expect(folder![1]).toBe(folder![2]);
    expect(check).toMatch(/save the example above here as cvp\.yaml/);
    expect(check).toMatch(/npx cvp config check cvp\.yaml/);
  });

  it('passes cvp config check, as printed, after the lines the README gives', () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cvp.yaml'), example);
    const env = { ...process.env };
    for (const name of ['JENKINS_TOKEN', 'SLACK_TOKEN', 'JENKINS_TOKEN_FILE', 'SLACK_TOKEN_FILE', 'CVP_TLS_PASSPHRASE']) delete env[name];
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', check], { cwd: packageRoot, encoding: 'utf8', env, timeout: 120_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr.includes('cvp:') ? r.stderr : '' })
      .toEqual({ status: 0, stdout: 'cvp.yaml: OK (1 rule(s): tower-group-testing)\n', stderr: '' });
  });

  it('is refused, with file:line:col: key, without its secrets and TLS files', () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cvp.yaml'), example);
    const env = { ...process.env };
    for (const name of ['JENKINS_TOKEN', 'SLACK_TOKEN', 'JENKINS_TOKEN_FILE', 'SLACK_TOKEN_FILE']) delete env[name];
    const noSecrets = spawnSync(join(packageRoot, 'bin', 'cvp'), ['config', 'check', 'cvp.yaml'], { cwd: dir, encoding: 'utf8', env });
    expect(noSecrets.status).toBe(2);
    expect(noSecrets.stderr).toMatch(/^ {2}cvp\.yaml:\d+:\d+: jenkins\.token: environment variable JENKINS_TOKEN is not set/m);
    const noFiles = spawnSync(join(packageRoot, 'bin', 'cvp'), ['config', 'check', 'cvp.yaml'], { cwd: dir, encoding: 'utf8', env: { ...env, JENKINS_TOKEN: 't', SLACK_TOKEN: 's' } });
    expect(noFiles.status).toBe(2);
    for (const key of ['cert', 'key', 'ca']) expect(noFiles.stderr).toMatch(new RegExp(`^ {2}cvp\\.yaml:\\d+:\\d+: bus\\.tls\\.${key}: cannot read .* \\(no such file\\)$`, 'm'));
  });
});
