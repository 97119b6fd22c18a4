/** How `cvp listen` picks its log format and its intake port, and says what is wrong with a port. */
import { applyIntakePort, intakePortOverride, listenProblem, parsePort } from '../../src/cli/intake-port';
import { logFormatFor } from '../../src/cli/logger';
import { parseConfig } from '../../src/config/load-config';
import { CvpError, permanentError } from '../../src/errors';
import { schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

const validator = new EventValidator(schemasDir);
const config = (intake: string) => parseConfig(`${intake}
command: { jobs: { j: { run: /bin/true } } }
rules:
  - { name: r, topic: VirtualTopic.eng.ci.brew-build.test.complete, job: j, report: { testcase: a.b.c, per: artifact } }
`, 'cvp.yaml', {}, (t) => validator.knows(t));

/** What the HTTP intake throws when its port is taken. */
const inUse = (port: number) => permanentError('CONFIG_INVALID', `intake.port: 127.0.0.1:${port} is already in use by another process (another cvp?)`, undefined,
  Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }));

describe('the log format', () => {
  it('is text for a person at a terminal, JSON lines otherwise, and what was asked for in either case', () => {
    expect(logFormatFor(undefined, true)).toBe('text');
    expect(logFormatFor(undefined, false)).toBe('json');
    expect(logFormatFor('json', true)).toBe('json');
    expect(logFormatFor('text', false)).toBe('text');
  });
});

describe('the intake port', () => {
  it('comes from --port, else CVP_INTAKE_PORT, else the file', () => {
    expect(intakePortOverride('9090', { CVP_INTAKE_PORT: '9191' })).toEqual({ port: 9090, from: 'flag' });
    expect(intakePortOverride(undefined, { CVP_INTAKE_PORT: '9191' })).toEqual({ port: 9191, from: 'env' });
    expect(intakePortOverride(undefined, { CVP_INTAKE_PORT: '' })).toBeUndefined();
    expect(intakePortOverride(undefined, {})).toBeUndefined();
    const loaded = config('intake: { port: 8181 }');
    expect(applyIntakePort(loaded, undefined, {})).toEqual({ port: 8181, from: 'file' });
    expect(applyIntakePort(loaded, undefined, { CVP_INTAKE_PORT: '0' })).toEqual({ port: 0, from: 'env' });
    expect(loaded.config.intake?.port).toBe(0);
  });

  it('refuses what is not a port, naming where it came from', () => {
    expect(parsePort('65535', '--port')).toBe(65535);
    expect(() => parsePort('65536', '--port')).toThrow('--port: expected a port number from 0 to 65535 (0: any free port), found "65536"');
    expect(() => parsePort('http', 'CVP_INTAKE_PORT')).toThrow('CVP_INTAKE_PORT: expected a port number from 0 to 65535 (0: any free port), found "http"');
    expect(() => parsePort('-1', '--port')).toThrow(CvpError);
  });

  it('cannot be set when the intake is turned off', () => {
    expect(() => applyIntakePort(config('intake:\n  enabled: false'), '9090', {})).toThrow('cvp.yaml:2:12: intake.enabled: the intake is turned off, so --port 9090 has no port to set');
  });

  it('when taken, is named where it came from, with how to choose another', () => {
    const loaded = config('intake:\n  port: 8080');
    const fromFile = listenProblem(inUse(8080), loaded, { port: 8080, from: 'file' }) as CvpError;
    expect(fromFile.reasons).toEqual([
      'cvp.yaml:2:9: intake.port: 127.0.0.1:8080 is already in use by another process (another cvp?)',
      'choose another port: intake.port in cvp.yaml, or without editing it: cvp listen --port N (npm start -- --port N) or CVP_INTAKE_PORT=N',
    ]);
    expect((listenProblem(inUse(9090), loaded, { port: 9090, from: 'env' }) as CvpError).message)
      .toBe('CVP_INTAKE_PORT=9090 (intake.port): 127.0.0.1:9090 is already in use by another process (another cvp?)');
    const other = new Error('something else');
    expect(listenProblem(other, loaded, { port: 8080, from: 'file' })).toBe(other);
  });
});
