import { parseConfig } from '../../src/config/load-config';
import { configProblems as problems, knows } from '../support/config-problems';


const rules = `rules:
  - name: tower
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    executor: command
    job: j
    report: { testcase: a.b.c }
command: { jobs: { j: { run: ./j.sh } } }
`;


describe('journal configuration', () => {
  it('takes a PostgreSQL URL with its password from the environment, and keeps the password a secret', () => {
    const fromKey = parseConfig(`journal:\n  url: postgres://cvp@db.example.com:5432/cvp\n  password: \${PG_PW}\n  pool_size: 5\n  connect_timeout: 5s\n${rules}`,
      'cvp.yaml', { PG_PW: 'pw-from-env' }, knows);
    expect(fromKey.config.journal).toMatchObject({ url: 'postgres://cvp@db.example.com:5432/cvp', password: 'pw-from-env', pool_size: 5 });
    expect(fromKey.secrets).toContain('pw-from-env');
    const inUrl = parseConfig(`journal: { url: "postgres://cvp:\${PG_PW}@db.example.com/cvp" }\n${rules}`, 'cvp.yaml', { PG_PW: 'pw%3Ain-url' }, knows);
    // In a URL a password is percent-encoded (journal.password takes any as it is); the secret redacted is the decoded one.
    expect(inUrl.secrets).toContain('pw:in-url');
  });

  it('refuses journal.url together with journal.path, at the line of path', () => {
    expect(problems(`journal:\n  path: var/cvp.db\n  url: postgres://cvp@db/cvp\n${rules}`)).toEqual([
      'cvp.yaml:2:3: journal.path: journal.path (a SQLite file) and journal.url (PostgreSQL) name two journals; keep one',
    ]);
  });

  it('refuses a password written in the file, in the URL or under password', () => {
    expect(problems(`journal:\n  url: postgres://cvp:hunter2@db/cvp\n${rules}`)).toEqual([
      expect.stringMatching(/^cvp\.yaml:2:8: journal\.url: a password written in the URL; write postgres:\/\/user:\$\{CVP_JOURNAL_PASSWORD\}@host\/database/),
    ]);
    expect(problems(`journal:\n  url: postgres://cvp@db/cvp\n  password: hunter2\n${rules}`)).toEqual([
      expect.stringMatching(/^cvp\.yaml:3:13: journal\.password: a secret written in the file; write \$\{CVP_JOURNAL_PASSWORD\}/),
    ]);
    const allowed = parseConfig(`allow_inline_secrets: true\njournal: { url: "postgres://cvp:hunter2@db/cvp" }\n${rules}`, 'cvp.yaml', {}, knows);
    expect(allowed.config.journal?.url).toBe('postgres://cvp:hunter2@db/cvp');
  });

  it('refuses what is not a PostgreSQL URL, and PostgreSQL settings without one', () => {
    expect(problems(`journal: { url: "mysql://db/cvp" }\n${rules}`)).toEqual([expect.stringMatching(/^cvp\.yaml:1:17: journal\.url: expected a string matching \^postgres/)]);
    expect(problems(`journal: { url: "postgres://" }\n${rules}`)).toEqual([expect.stringMatching(/^cvp\.yaml:1:17: journal\.url: not a URL with a host/)]);
    expect(problems(`journal: { path: x.db, pool_size: 3 }\n${rules}`)).toEqual([
      'cvp.yaml:1:24: journal.pool_size: a PostgreSQL setting, but there is no journal.url (the journal is a SQLite file)',
    ]);
  });
});
