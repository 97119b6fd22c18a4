/**
 * The sandbox as shipped (examples/sandbox.yaml and its job scripts, copied so its journal lands
 * in a temporary folder): the first simulated group event ends in a gate decision, in shadow mode,
 * that `cvp decisions` shows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../support/activemq';
import { eventually } from '../support/eventually';
import { cvp, cvpAsync, listen, sandboxCopy } from './cvp-cli';

describe('the sandbox', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cvp-sandbox-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("ends the first group event in the product's gate decision, shown by cvp decisions", async () => {
    const config = sandboxCopy(dir);
    const [port] = await freePorts(1);
    const daemon = listen(['--config', config, '--port', String(port)]);
    try {
      await eventually('the daemon to listen', () => daemon.out.includes('cvp is listening'), 30_000);
      expect(cvp(['decisions', '-c', config]).stdout).toContain('0 decision(s)');

      const sent = await cvpAsync(['trigger', 'group-testing', '--to', `http://127.0.0.1:${port}`, '--wait', '--timeout', '60']);
      expect(sent.stdout).toContain('all runs passed');
      expect(sent.status).toBe(0);

      const shown = await eventually('the decision', () => {
        const r = cvp(['decisions', '-c', config]);
        return r.stdout.includes('1 decision(s)') && r;
      });
      expect(shown.status).toBe(0);
      const [header, row, summary] = shown.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^WHEN\s+DECISION\s+MODE\s+ACTION\s+GATE \(product\|type\|artifact\)$/);
      expect(row).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+pass\s+shadow\s+would_release\s+Ansible Tower\|redhat-container-group\|\S+$/);
      expect(summary).toBe('1 decision(s): 1 would_release');
      // The daemon's terminal says so too, as the gate's reply in the event's thread (cvp trigger's
      // events are a tester's, marked simulated: never released, whatever the knob says).
      await eventually('the decision notice', () => /^slack {3}↳ Gate PASSED for Ansible Tower: .*Simulated event: CVP would have released this; nothing was released/m.test(daemon.out));
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exit).toBe(0);
  });
});
