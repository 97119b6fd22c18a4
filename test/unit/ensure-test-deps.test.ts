/**
 * scripts/ensure-test-deps.js, run as `npm test` runs it. The machine running the tests has every
 * package (that is what the script is for), so a missing one is rehearsed with
 * CVP_TEST_DEPS_PRETEND_MISSING, and CVP_TEST_DEPS_DRY_RUN keeps apt-get from running.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';

const SCRIPT = join(packageRoot, 'scripts', 'ensure-test-deps.js');
const isRoot = process.getuid?.() === 0;

function ensure(args: string[], env: Record<string, string> = {}, asNobody = false) {
  const base = { ...process.env };
  delete base.CVP_TEST_DEPS_PRETEND_MISSING;
  delete base.CVP_TEST_DEPS_DRY_RUN;
  // As root, the non-root path is run as nobody (65534), as a developer without sudo would.
  const user = asNobody && isRoot ? { uid: 65534, gid: 65534 } : {};
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', env: { ...base, ...env }, timeout: 60_000, ...user });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ensure-test-deps', () => {
  it('says in one line that every package the tests use is there', () => {
    const r = ensure([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^test deps ok: java \S+, activemq \S+activemq\.jar, groovy \S+, openssl \S+, python3-jenkins \S+jenkins, postgresql \/usr\/lib\/postgresql\/\d+\/bin, chromium \/usr\/bin\/chromium$/);
  });

  it('checks the build tools better-sqlite3 compiles with, in one line', () => {
    const r = ensure(['--build']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^build deps ok: c\+\+ \S+, make \S+, python3 \S+\n$/);
  });

  it('as root, installs what is missing with apt-get update, then apt-get install --no-install-recommends', () => {
    const r = ensure([], { CVP_TEST_DEPS_PRETEND_MISSING: 'python3-jenkins,chromium,postgresql', CVP_TEST_DEPS_DRY_RUN: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ensure-test-deps: missing python3-jenkins (importable by /usr/bin/python3) [Debian package python3-jenkins], '
      + 'PostgreSQL (/usr/lib/postgresql/<version>/bin/initdb) [Debian package postgresql], chromium (/usr/bin/chromium) [Debian package chromium]');
    if (isRoot) {
      expect(r.stderr).toMatch(/would run: \S*apt-get update\n.*would run: \S*apt-get install -y --no-install-recommends python3-jenkins postgresql chromium\n/);
      expect(r.stderr).toContain('dry run (CVP_TEST_DEPS_DRY_RUN): nothing installed.');
    } else {
      expect(r.stderr).toContain('nothing installed (not root)');
    }
  });

  it('not as root, installs nothing and says exactly what to run', () => {
    const r = ensure([], { CVP_TEST_DEPS_PRETEND_MISSING: 'java,groovy' }, true);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ensure-test-deps: missing java (a runnable JRE) [Debian package default-jre-headless], groovy [Debian package groovy]');
    expect(r.stderr).toContain("nothing installed (not root). Run this, then the command again:\n  sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends default-jre-headless groovy'");
  });
});
