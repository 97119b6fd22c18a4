import type { DecisionRecord, HumanAction } from '../../src/listener/domain';
import { describeRatio, shadowAgreement } from '../../src/listener/people/agreement';

const DAY = 86_400_000;
const T = 1_700_000_000_000;

function decision(gate: string, decision: 'pass' | 'fail', at: number, mode = 'shadow'): DecisionRecord {
  return { gateKey: gate, decision, mode, action: decision === 'pass' ? (mode === 'off' ? 'asked' : 'would_release') : 'none', reasons: [], createdAt: at };
}

function act(gate: string, kind: HumanAction['kind'], at: number, who = 'cli:ada@host'): HumanAction {
  return { id: `${gate}-${kind}-${at}`, kind, product: gate.split('|')[0], gateKey: gate, who, via: 'cli', at };
}

const g = (product: string, id: string) => `${product}|redhat-container-group|${id}`;

describe('shadow agreement', () => {
  it("compares CVP's first decision of each gate with people's final word, per product", () => {
    const decisions = [
      decision(g('Tower', 'a'), 'pass', T),                // released: agreed
      decision(g('Tower', 'b'), 'pass', T + 1),            // held: disagreed
      decision(g('Tower', 'c'), 'fail', T + 2),            // failed, waived, released: disagreed (people overruled CVP)
      decision(g('Tower', 'c'), 'pass', T + 3),            //   (the gate's later decision, after the waiver: not CVP's first word)
      decision(g('Tower', 'd'), 'fail', T + 4),            // held: agreed
      decision(g('Tower', 'e'), 'pass', T + 5),            // nobody acted yet
      decision(g('Tower', 'f'), 'fail', T + 6),            // only waived: not a verdict yet
      decision(g('Tower', 'g'), 'pass', T + 7, 'on'),      // CVP released itself: not a prediction
      decision(g('Satellite', 'h'), 'pass', T + 8, 'off'), // held, then released: the last word counts, agreed
    ];
    const actions = [
      act(g('Tower', 'a'), 'release', T + 100),
      act(g('Tower', 'b'), 'hold', T + 100),
      act(g('Tower', 'c'), 'waive', T + 100), act(g('Tower', 'c'), 'release', T + 200),
      act(g('Tower', 'd'), 'hold', T + 100),
      act(g('Tower', 'f'), 'waive', T + 100),
      act(g('Satellite', 'h'), 'hold', T + 100), act(g('Satellite', 'h'), 'release', T + 300, 'slack:U1 (bob)'),
      { id: 'rerun', kind: 'rerun' as const, product: 'Tower', runId: 'r1', who: 'cli:ada', via: 'cli' as const, at: T + 100 },
    ];
    const result = shadowAgreement(decisions, actions, T - DAY);
    expect(result.products).toEqual([
      { product: 'Satellite', gates: 1, agreed: 1, disagreed: 0, notActed: 0, ratio: 1 },
      { product: 'Tower', gates: 6, agreed: 2, disagreed: 2, notActed: 2, ratio: 0.5 },
    ]);
    const byId = new Map(result.gates.map((x) => [x.gateKey.split('|')[2], x]));
    expect(byId.get('c')).toMatchObject({ cvp: 'fail', people: 'pass', waived: true, verdict: 'disagreed' });
    expect(byId.get('f')).toMatchObject({ cvp: 'fail', people: null, waived: true, verdict: 'not_acted' });
    expect(byId.get('h')).toMatchObject({ people: 'pass', by: 'slack:U1 (bob)', at: T + 300, verdict: 'agreed' });
    expect(byId.has('g')).toBe(false);
    expect(describeRatio(result.products[1])).toBe('50% (2 of 4 agreed; 2 not yet acted on)');
  });

  it('counts only gates first decided within the window, and what people did whatever the clocks said', () => {
    const decisions = [decision(g('Tower', 'old'), 'pass', T - 40 * DAY), decision(g('Tower', 'new'), 'pass', T), decision(g('Tower', 'next'), 'fail', T)];
    // A hold recorded by a CLI whose clock is behind the daemon's still counts.
    const actions = [act(g('Tower', 'old'), 'release', T), act(g('Tower', 'new'), 'hold', T - 1)];
    const result = shadowAgreement(decisions, actions, T - 30 * DAY);
    expect(result.gates.map((x) => [x.gateKey, x.verdict]).sort()).toEqual([[g('Tower', 'new'), 'disagreed'], [g('Tower', 'next'), 'not_acted']]);
    expect(result.products[0].ratio).toBe(0);
    expect(describeRatio(result.products[0])).toBe('0% (0 of 1 agreed; 1 not yet acted on)');
    expect(describeRatio(shadowAgreement(decisions, [], T - 30 * DAY).products[0])).toBe('no figure yet (2 decision(s), none acted on)');
  });
});
