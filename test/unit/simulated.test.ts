import { isSimulated } from '../../src/listener/intake/simulated';

describe('the mark of a simulated event and of its results', () => {
  it('is the body field cvp_simulated: true, as the Jenkins library sets it', () => {
    expect(isSimulated({ cvp_simulated: true, test: {} })).toBe(true);
    expect(isSimulated({ cvp_simulated: 'true' })).toBe(false);
    expect(isSimulated({ test: {} })).toBe(false);
    expect(isSimulated(null)).toBe(false);
  });
  it('or the JMS property CVP_SIMULATED=true (STOMP headers keep the property name)', () => {
    expect(isSimulated({}, { CVP_SIMULATED: 'true' })).toBe(true);
    expect(isSimulated({}, { CVP_SIMULATED: 'false' })).toBe(false);
    expect(isSimulated({}, { 'message-id': 'x' })).toBe(false);
  });
});
