/**
 * `cvp waive`, `release`, `hold`, `rerun`, `waive --revoke` and `decisions` in-process against the
 * journal of a core (the harness) that plays the daemon: each action is recorded once, the core's
 * outbox then says it in the event's thread, and the gate counts waivers as WaiverDB's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main';
import { coreHarness, GROUP_TOPIC, groupEvent, towerRule, type Harness } from '../support/core-harness';
import { FakeClock } from '../support/fakes';

const TESTCASE = 'ansible-tower-35.default.integration';
const NVR = 'ansible-tower-container-3.5.4-2';
const PRODUCT = 'Ansible Tower';

describe('people\'s actions from the cvp command', () => {
  let dir: string;
  let h: Harness;
  let configFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cvp-actions-'));
    const journalPath = join(dir, 'journal.db');
    h = coreHarness({
      // The CLI records at the real time: the harness's clock starts there, so what it records is due.
      clock: new FakeClock(Date.now()),
      journalPath,
      rules: [{ ...towerRule, product: PRODUCT, report: { ...towerRule.report, rebuilt: "issuer == 'freshmaker'", group: false } }],
      products: [{ name: PRODUCT, required: { 'brew-build': [TESTCASE] }, release: 'off' }],
    });
    configFile = join(dir, 'cvp.yaml');
    writeFileSync(configFile, `
journal: { path: ${journalPath} }
jenkins: { url: "https://jenkins.example.com", user: cvp-bot, token: "\${JENKINS_TOKEN}" }
products:
  - { name: ${PRODUCT}, required: { brew-build: [${TESTCASE}] }, release: "off" }
rules:
  - name: ${towerRule.name}
    product: ${PRODUCT}
    topic: ${GROUP_TOPIC}
    job: ${towerRule.job}
    report: { testcase: ${TESTCASE}, per: image, type: brew-build }
`);
  });

  afterEach(async () => {
    await h.journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cvp(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run([...args, '-c', configFile], {
      env: { JENKINS_TOKEN: 't' }, out: (l) => out.push(l), err: (l) => err.push(l), fetch,
      stopSignal: () => new Promise(() => undefined), log: h.log,
    });
    return { code, out, err };
  }

  const thread = () => h.notifier.notices.map((n) => n.text);

  /** The core's passes, at least at the time the CLI recorded its actions. */
  async function settle(): Promise<void> {
    h.clock.t = Math.max(h.clock.t, Date.now());
    await h.settle();
  }

  it('waives the failing result (the gate passes), releases, refuses a hold after it, reruns, and revokes (the gate fails again), each recorded once', async () => {
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => {
      e.artifact.images[1].issuer = 'rhel-build-service';
      e.artifact.images[2].issuer = 'rhel-build-service';
    })));
    await h.settle();
    const build = h.executor.builds[0];
    h.executor.finish(build.runId, 'FAILURE');
    h.clock.advance(10_000);
    await h.settle();
    expect(thread().filter((t) => t.startsWith('Gate FAILED for Ansible Tower'))).toHaveLength(1);
    const artifactId = groupEvent().artifact.id;
    const gate = `${PRODUCT}|redhat-container-group|${artifactId}`;

    expect(await cvp('waive', artifactId, '--item', NVR, '--testcase', TESTCASE)).toMatchObject({ code: 1, err: ['cvp: waive needs --reason (or --revoke WAIVER_ID)'] });
    expect(await cvp('waive', artifactId, '--item', 'no-such-nvr-1-1', '--testcase', TESTCASE, '--reason', 'x')).toMatchObject({ code: 1, err: [`cvp: no-such-nvr-1-1 is not an item of the gate of ${PRODUCT} ${artifactId}`] });
    expect(await cvp('release', artifactId, '--as', 'ada')).toMatchObject({ code: 1, err: [expect.stringContaining('has failed: waive what fails, or wait, before releasing')] });

    const waived = await cvp('waive', artifactId, '--item', NVR, '--testcase', TESTCASE, '--reason', 'known flake', '--as', 'ada', '--id', 'waive-once');
    expect(waived.code).toBe(0);
    const waiverId = /^waiver (\S+) given by cli:ada \(action waive-once\)/.exec(waived.out[0])![1];
    expect(await cvp('waive', artifactId, '--item', NVR, '--testcase', TESTCASE, '--reason', 'known flake', '--as', 'ada', '--id', 'waive-once'))
      .toMatchObject({ code: 0, out: ['waive ' + gate + ': done already; nothing more was done'] });
    await settle();
    expect(thread()).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`^cli:ada waived ${TESTCASE} on ${NVR}: known flake \\(waiver ${waiverId}\\)`)),
      expect.stringMatching(/^Gate changed to PASSED for Ansible Tower/),
    ]));
    const passed = h.notifier.notices.find((n) => n.text.startsWith('Gate changed to PASSED'))!;
    expect(JSON.stringify(passed.blocks)).toContain('waived by cli:ada: known flake');

    // Released by NVR (the one gate holding it); a hold afterwards changes nothing.
    expect(await cvp('release', NVR, '--as', 'ada')).toMatchObject({ code: 0, out: [expect.stringMatching(new RegExp(`^${PRODUCT} ${artifactId} released by cli:ada`))] });
    expect(await cvp('hold', gate, '--as', 'bob', '--reason', 'too late')).toMatchObject({ code: 0, out: [`${PRODUCT} ${artifactId} was released already`] });
    await settle();
    expect(thread().filter((t) => t.startsWith(`cli:ada released ${PRODUCT} ${artifactId}`))).toHaveLength(1);

    const decisions = await cvp('decisions');
    expect(decisions.out).toEqual(expect.arrayContaining([
      `  waived: ${TESTCASE} on ${NVR}, FAILED, by cli:ada: known flake`,
      expect.stringMatching(new RegExp(`^  waive by cli:ada at \\S+: ${gate.replace(/\|/g, '\\|')} \\(known flake\\)$`)),
      expect.stringMatching(new RegExp(`^  release by cli:ada at \\S+: ${gate.replace(/\|/g, '\\|')}$`)),
      '2 decision(s): 1 asked, 1 none',
    ]));
    const summary = await cvp('decisions', '--summary', '--since', '2023-01-01');
    expect(summary.out[1]).toMatch(/^Ansible Tower\s+0%\s+0\s+1\s+0\s+1$/);
    expect(summary.out[2]).toBe(`  disagreed: ${gate}: CVP said fail, cli:ada released it (after a waiver)`);

    // Rerun: the same job again under a new run id; unknown runs are named.
    expect(await cvp('rerun', 'no-such-run')).toMatchObject({ code: 1, err: ['cvp: no run no-such-run'] });
    expect((await cvp('rerun', build.runId, '--as', 'ada')).out[0]).toMatch(new RegExp(`^run ${build.runId} runs again as \\S+ by cli:ada`));
    await settle();
    expect(h.executor.builds).toHaveLength(2);
    expect(h.executor.builds[1].parameters.TOWER_CONTAINER_IMAGE).toBe(build.parameters.TOWER_CONTAINER_IMAGE);
    // It fails again: the waiver still covers it (the latest result of the case), so the gate still passes.
    h.executor.finish(h.executor.builds[1].runId, 'FAILURE');
    h.clock.advance(10_000);
    await settle();
    expect(thread().filter((t) => t.startsWith('Gate changed'))).toHaveLength(1);

    // Revoked: the gate counts the failure again.
    expect((await cvp('waive', '--revoke', waiverId, '--as', 'bob')).out[0]).toMatch(new RegExp(`^waiver ${waiverId} revoked by cli:bob`));
    expect((await cvp('waive', '--revoke', waiverId)).out[0]).toBe(`waiver ${waiverId} was revoked already by cli:bob`);
    expect(await cvp('waive', '--revoke', waiverId, '--item', NVR)).toMatchObject({ code: 1, err: ['cvp: --revoke takes a waiver id alone (with --reason, if you like)'] });
    await settle();
    expect(thread().filter((t) => t.startsWith('Gate changed to FAILED for Ansible Tower'))).toHaveLength(1);
    const waivers = await cvp('decisions', '--waivers');
    expect(waivers.out[1]).toMatch(new RegExp(`^${waiverId}\\s+\\S+\\s+revoked\\s+Ansible Tower: ${TESTCASE} on ${NVR} \\(brew-build\\) by cli:ada: known flake$`));
    expect(waivers.out[2]).toMatch(/^ {2}revoked by cli:bob at /);
    expect((await h.journal.actions(PRODUCT, 100)).map((a) => a.kind).sort()).toEqual(['release', 'rerun', 'revoke', 'waive']);
  });

  it('says which gate when an id is in several, and nothing when it is in none', async () => {
    for (const id of ['g-1', 'g-2']) await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = id; })));
    await settle();
    const held = await cvp('hold', NVR);
    expect(held.code).toBe(1);
    expect(held.err[0]).toMatch(new RegExp(`^cvp: ${NVR} is in 2 gates; say which: `));
    expect(await cvp('hold', 'nothing-at-all')).toMatchObject({ code: 1, err: ['cvp: no gate for nothing-at-all: give a gate key (product|type|artifact, as cvp decisions shows it), an artifact id or an NVR'] });
    const ok = await cvp('hold', 'g-1', '--as', 'ada', '--reason', 'wait for the CVE fix');
    expect(ok.code).toBe(0);
    await settle();
    expect(thread()).toContainEqual(expect.stringMatching(/^cli:ada held Ansible Tower g-1: wait for the CVE fix/));
  });
});
