import { parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import { schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

const validator = new EventValidator(schemasDir);
/** Whether the shipped schemas know a message type, as the CLI asks when it loads a config. */
export const knows = (t: string): boolean => validator.knows(t);

/** The reasons parseConfig gives for refusing `text`; fails the test if it is accepted. */
export function configProblems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'cvp.yaml', env, knows);
  } catch (err) {
    expect(err).toBeInstanceOf(CvpError);
    return (err as CvpError).reasons;
  }
  throw new Error('expected the configuration to be refused');
}
