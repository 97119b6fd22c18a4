#!/usr/bin/env node
/*
 * Checks (and, as root on Debian, installs) what the test suite needs outside node_modules:
 *   - java             (runs the test broker; Debian: default-jre-headless, pulled in by activemq)
 *   - ActiveMQ         (/usr/share/activemq/bin/activemq.jar; Debian: activemq)
 *   - groovy           (compiles and runs the Jenkins library; Debian: groovy)
 *   - node_modules     (npm ci)
 * `npm test` runs it first. One line when everything is there; exit 1 with what to run when not.
 * Plain Node, no dependencies.
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS on purpose: it runs before any build or npm ci */

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const ACTIVEMQ_HOME = process.env.ACTIVEMQ_HOME || '/usr/share/activemq';
const ACTIVEMQ_JAR = path.join(ACTIVEMQ_HOME, 'bin', 'activemq.jar');

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** $JAVA_HOME/bin/java when that exists (Debian's default JAVA_HOME may not), else java on PATH. */
function findJava() {
  if (process.env.JAVA_HOME) {
    const candidate = path.join(process.env.JAVA_HOME, 'bin', 'java');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // fall back to PATH
    }
  }
  return onPath('java');
}

function javaVersion() {
  const java = findJava();
  if (!java) return undefined;
  const r = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) return undefined;
  const m = /version "([^"]+)"/.exec(`${r.stderr}${r.stdout}`);
  return m ? m[1] : 'unknown version';
}

/** What is missing: [{ what, pkg }]. */
function check() {
  const missing = [];
  const found = {};
  const java = javaVersion();
  if (java) found.java = java;
  else missing.push({ what: 'java (a runnable JRE)', pkg: 'default-jre-headless' });
  if (fs.existsSync(ACTIVEMQ_JAR)) found.activemq = ACTIVEMQ_JAR;
  else missing.push({ what: `ActiveMQ (${ACTIVEMQ_JAR})`, pkg: 'activemq' });
  const groovy = onPath('groovy');
  if (groovy) found.groovy = groovy;
  else missing.push({ what: 'groovy', pkg: 'groovy' });
  return { missing, found };
}

function run(cmd, args) {
  console.error(`ensure-test-deps: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.error) console.error(`ensure-test-deps: ${cmd} failed: ${r.error.message}`);
  return r.status === 0;
}

function installCommand(pkgs) {
  return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

function main() {
  if (!fs.existsSync(path.join(ROOT, 'node_modules'))) {
    console.error(`ensure-test-deps: ${path.join(ROOT, 'node_modules')} is missing: run \`npm ci\` in ${ROOT} first.`);
    return 1;
  }

  let { missing, found } = check();
  if (missing.length > 0) {
    // activemq depends on a JRE, so installing it brings java too; ask for both anyway.
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const aptGet = onPath('apt-get');
    console.error(`ensure-test-deps: missing ${missing.map((m) => `${m.what} [Debian package ${m.pkg}]`).join(', ')}`);
    if (isRoot && aptGet) {
      const ok =
        run(aptGet, ['update']) &&
        run(aptGet, ['install', '-y', '--no-install-recommends', ...pkgs]);
      if (ok) ({ missing, found } = check());
      if (!ok || missing.length > 0) {
        console.error(
          `ensure-test-deps: installing ${pkgs.join(' ')} did not work` +
            (missing.length > 0 ? `; still missing: ${missing.map((m) => m.what).join(', ')}` : '') +
            `.\nRun by hand, as root:\n  ${installCommand(pkgs)}`,
        );
        return 1;
      }
    } else {
      console.error(
        `ensure-test-deps: cannot install ${isRoot ? '(no apt-get here)' : '(not root)'}. ` +
          `Install the Debian package(s) ${pkgs.join(', ')}, e.g.:\n  sudo sh -c '${installCommand(pkgs)}'`,
      );
      return 1;
    }
  }
  console.log(`test deps ok: java ${found.java}, activemq ${found.activemq}, groovy ${found.groovy}`);
  return 0;
}

process.exitCode = main();
