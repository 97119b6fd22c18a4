#!/usr/bin/env node
/*
 * Checks (and, as root on Debian, installs) what the build and the test suite need outside
 * node_modules. Plain Node, no dependencies: it runs before `npm ci` (--build) and before the
 * tests (`npm test` runs it first).
 *
 *   node scripts/ensure-test-deps.js --build   what `npm ci` needs to compile better-sqlite3:
 *                                              a C++ compiler, make, python3 (Debian: g++ make python3)
 *   node scripts/ensure-test-deps.js           what the tests use (the Debian package of each):
 *     java             runs the test broker, groovy and keytool  default-jre-headless (activemq brings it)
 *     ActiveMQ         the real broker the tests talk STOMP to   activemq
 *     groovy           compiles and runs the Jenkins library     groovy
 *     openssl          makes the TLS tests' certificates         openssl
 *     python3-jenkins  a real Jenkins client, run by /usr/bin/python3, that the stand-in is checked against
 *                                                                python3-jenkins
 *     PostgreSQL       initdb/postgres in /usr/lib/postgresql/<version>/bin, for the journal's tests
 *                                                                postgresql
 *     chromium         /usr/bin/chromium, for the browser tests  chromium
 *
 * One line when everything is there. Otherwise, as root with apt-get: `apt-get update` then
 * `apt-get install -y --no-install-recommends <packages>`, then checks again; not root (or no
 * apt-get): says exactly what to run, and exits 1.
 *
 * To rehearse a fresh machine without removing anything: CVP_TEST_DEPS_PRETEND_MISSING=python3-jenkins,chromium
 * makes the first check report those (names or Debian packages) missing, so the install path runs
 * for real (apt-get leaves installed packages as they are); CVP_TEST_DEPS_DRY_RUN=1 prints the
 * commands instead of running them.
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS on purpose: it runs before any build or npm ci */

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const ACTIVEMQ_HOME = process.env.ACTIVEMQ_HOME || '/usr/share/activemq';
const ACTIVEMQ_JAR = path.join(ACTIVEMQ_HOME, 'bin', 'activemq.jar');
/** Debian's python, which sees Debian's dist-packages (a pyenv or venv python3 on PATH does not). */
const SYSTEM_PYTHON = '/usr/bin/python3';
const POSTGRESQL_LIB = '/usr/lib/postgresql';
const CHROMIUM = '/usr/bin/chromium';

function executable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** $JAVA_HOME/bin/java when that exists (Debian's default JAVA_HOME may not), else java on PATH. */
function findJava() {
  if (process.env.JAVA_HOME && executable(path.join(process.env.JAVA_HOME, 'bin', 'java'))) {
    return path.join(process.env.JAVA_HOME, 'bin', 'java');
  }
  return onPath('java');
}

function javaVersion() {
  const java = findJava();
  if (!java) return undefined;
  const r = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) return undefined;
  const m = /version "([^"]+)"/.exec(`${r.stderr}${r.stdout}`);
  return `java ${m ? m[1] : '(unknown version)'}`;
}

function pythonJenkins() {
  if (!executable(SYSTEM_PYTHON)) return undefined;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import os, jenkins; print(os.path.dirname(jenkins.__file__))'], { encoding: 'utf8', timeout: 30000 });
  return r.status === 0 ? `python3-jenkins ${r.stdout.trim()}` : undefined;
}

/**
 * The newest PostgreSQL whose initdb, pg_ctl and postgres are there (Debian keeps each major under
 * its own folder), with the user `postgres` and runuser: the tests start their server as that user.
 */
function postgresql() {
  let versions = [];
  try {
    versions = fs.readdirSync(POSTGRESQL_LIB).filter((v) => ['initdb', 'pg_ctl', 'postgres'].every((p) => executable(path.join(POSTGRESQL_LIB, v, 'bin', p))));
  } catch {
    return undefined;
  }
  const user = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (user.status !== 0 || !onPath('runuser')) return undefined;
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? `postgresql ${path.join(POSTGRESQL_LIB, versions[0], 'bin')}` : undefined;
}

function found(label, file) {
  return file ? `${label} ${file}` : undefined;
}

/** Each requirement: what it is, its Debian package, and how to find it (a description, or undefined when missing). */
const TEST_NEEDS = [
  { name: 'java', what: 'java (a runnable JRE)', pkg: 'default-jre-headless', find: javaVersion },
  { name: 'activemq', what: `ActiveMQ (${ACTIVEMQ_JAR})`, pkg: 'activemq', find: () => found('activemq', fs.existsSync(ACTIVEMQ_JAR) ? ACTIVEMQ_JAR : undefined) },
  { name: 'groovy', what: 'groovy', pkg: 'groovy', find: () => found('groovy', onPath('groovy')) },
  { name: 'openssl', what: 'openssl', pkg: 'openssl', find: () => found('openssl', onPath('openssl')) },
  { name: 'python3-jenkins', what: `python3-jenkins (importable by ${SYSTEM_PYTHON})`, pkg: 'python3-jenkins', find: pythonJenkins },
  { name: 'postgresql', what: `PostgreSQL (${POSTGRESQL_LIB}/<version>/bin/initdb)`, pkg: 'postgresql', find: postgresql },
  { name: 'chromium', what: `chromium (${CHROMIUM})`, pkg: 'chromium', find: () => found('chromium', executable(CHROMIUM) ? CHROMIUM : undefined) },
];

const BUILD_NEEDS = [
  { name: 'c++', what: 'a C++ compiler (c++ or g++)', pkg: 'g++', find: () => found('c++', onPath('c++') || onPath('g++')) },
  { name: 'make', what: 'make', pkg: 'make', find: () => found('make', onPath('make')) },
  { name: 'python3', what: 'python3 (for node-gyp)', pkg: 'python3', find: () => found('python3', onPath('python3')) },
];

function pretendMissing() {
  return new Set((process.env.CVP_TEST_DEPS_PRETEND_MISSING || '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** { missing: [need], found: [description] }; `pretend` names needs to report missing whatever the machine has. */
function check(needs, pretend = new Set()) {
  const missing = [];
  const present = [];
  for (const need of needs) {
    const description = pretend.has(need.name) || pretend.has(need.pkg) ? undefined : need.find();
    if (description) present.push(description);
    else missing.push(need);
  }
  return { missing, present };
}

function installCommand(pkgs) {
  return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

function run(cmd, args, dryRun) {
  console.error(`ensure-test-deps: ${dryRun ? 'would run' : 'running'}: ${cmd} ${args.join(' ')}`);
  if (dryRun) return true;
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) console.error(`ensure-test-deps: ${cmd} failed: ${r.error.message}`);
  return r.status === 0;
}

function main(argv) {
  const forBuild = argv.includes('--build');
  const needs = forBuild ? BUILD_NEEDS : TEST_NEEDS;
  const label = forBuild ? 'build deps' : 'test deps';
  if (!forBuild && !fs.existsSync(path.join(ROOT, 'node_modules'))) {
    console.error(`ensure-test-deps: ${path.join(ROOT, 'node_modules')} is missing: run \`npm ci\` in ${ROOT} first.`);
    return 1;
  }
  const dryRun = Boolean(process.env.CVP_TEST_DEPS_DRY_RUN);
  let { missing, present } = check(needs, pretendMissing());
  if (missing.length === 0) {
    console.log(`${label} ok: ${present.join(', ')}`);
    return 0;
  }
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  console.error(`ensure-test-deps: missing ${missing.map((m) => `${m.what} [Debian package ${m.pkg}]`).join(', ')}`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const aptGet = onPath('apt-get');
  if (!isRoot || !aptGet) {
    console.error(
      `ensure-test-deps: nothing installed (${!aptGet ? 'no apt-get here: install the equivalents of these Debian packages' : 'not root'}). ` +
        `Run this, then the command again:\n  sudo sh -c '${installCommand(pkgs)}'`,
    );
    return 1;
  }
  const ok = run(aptGet, ['update'], dryRun) && run(aptGet, ['install', '-y', '--no-install-recommends', ...pkgs], dryRun);
  if (dryRun) {
    console.error('ensure-test-deps: dry run (CVP_TEST_DEPS_DRY_RUN): nothing installed.');
    return 1;
  }
  if (ok) ({ missing, present } = check(needs));
  if (!ok || missing.length > 0) {
    console.error(
      `ensure-test-deps: installing ${pkgs.join(' ')} did not work` +
        (missing.length > 0 ? `; still missing: ${missing.map((m) => m.what).join(', ')}` : '') +
        `.\nRun by hand, as root:\n  ${installCommand(pkgs)}`,
    );
    return 1;
  }
  console.log(`${label} ok (installed ${pkgs.join(' ')}): ${present.join(', ')}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
