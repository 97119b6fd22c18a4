import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { loadConfig, type Env } from '../config/load-config';
import { CvpError, describeError, permanentError } from '../errors';
import { eventTimeline, eventView } from '../listener/views/event-view';
import { systemClock, type Logger } from '../listener/ports';
import { packageRoot, schemasDir } from '../paths';
import { EventValidator } from '../validator/event-validator';
import { Redactor } from '../config/redactor';
import { buildDaemon } from './build-daemon';
import { openJournal } from './open-journal';
import { runJournalMigrate } from './journal-migrate';
import { keepAliveFetch } from '../adapters/http/keep-alive-fetch';
import { formatOnlineCheck, onlineCheck, onlineExecutors } from './online-check';
import type { JournalStore } from './open-journal';
import { TEMPLATES } from './event-templates';
import { applyIntakePort, intakePortOverride, listenProblem } from './intake-port';
import { createLogger, logFormatFor, type LogFormat } from './logger';
import { runReplay } from './replay-command';
import { runAction, resolveGate, type ActorArgs } from './action-commands';
import { runDecisions } from './decisions-command';
import type { ActionRequest } from '../listener/people/actions';
import { checkTlsFiles } from './tls-files';
import { runTrigger } from './trigger-command';
import { printVerdicts, validateFiles } from './validate-command';

export interface RunContext {
  env: Env;
  out: (line: string) => void;
  err: (line: string) => void;
  fetch: typeof fetch;
  /** Resolves when the process is asked to stop (SIGTERM, SIGINT). */
  stopSignal: () => Promise<string>;
  log?: Logger;
  /** Whether a person reads the output: text logs and timelines then, JSON otherwise. */
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
}

const COMMANDS = ['listen', 'trigger', 'validate', 'config', 'status', 'decisions', 'replay', 'release', 'hold', 'rerun', 'waive'];

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * yargs' complaints, said for this command line: an unknown command is named as such, with the
 * nearest one when there is one (rather than every option after it called unknown).
 */
function usageError(msg: string, argv: string[]): CvpError {
  const words = argv.filter((a) => !a.startsWith('-'));
  const [command, sub] = words;
  const unknown = command !== undefined && !COMMANDS.includes(command) ? command
    : command === 'config' && sub !== undefined && sub !== 'check' ? `config ${sub}` : undefined;
  if (unknown !== undefined) {
    const nearest = /^Did you mean (.+)\?$/.exec(msg)?.[1];
    const suggestion = nearest ? `; did you mean ${command === 'config' ? 'config ' : ''}${nearest}?` : '';
    return permanentError('CONFIG_INVALID', `unknown command "${unknown}"${suggestion} (cvp --help lists the commands)`);
  }
  const help = command !== undefined && COMMANDS.includes(command) ? `cvp ${command === 'config' ? 'config check' : command} --help` : 'cvp --help';
  return permanentError('CONFIG_INVALID', `${msg} (${help})`);
}

function redacting(write: (line: string) => void, redactor: Redactor): (line: string) => void {
  return (line) => write(redactor.redact(line));
}

function printProblems(err: unknown, io: RunContext): number {
  if (err instanceof CvpError) {
    io.err(`cvp: ${err.message}`);
    for (const r of err.reasons) if (r !== err.message) io.err(`  ${r}`);
    return 2;
  }
  io.err(`cvp: ${describeError(err)}`);
  return 2;
}

interface ListenArgs { config: string; logFormat?: LogFormat; port?: string }

async function listen(args: ListenArgs, io: RunContext): Promise<number> {
  // Asked for now, so a signal during the start is not the default (an abrupt exit) but a stop once started.
  const stopping = io.stopSignal();
  const validator = new EventValidator(schemasDir);
  const loaded = loadConfig(args.config, io.env, (t) => validator.knows(t));
  const port = applyIntakePort(loaded, args.port, io.env);
  // Before anything starts, and with file:line:col: the daemon reads them again at every connection.
  checkTlsFiles(loaded, Date.now());
  const redactor = new Redactor(loaded.secrets);
  io.out = redacting(io.out, redactor);
  io.err = redacting(io.err, redactor);
  const log = io.log ?? createLogger({ level: io.env.CVP_LOG_LEVEL, format: logFormatFor(args.logFormat, io.stderrIsTTY ?? false), redactor });
  const built = await buildDaemon(loaded, { env: io.env, clock: systemClock, log, print: io.out, fetch: io.fetch }, validator);
  try {
    await built.daemon.start();
  } catch (err) {
    throw listenProblem(err, loaded, port);
  }
  if (built.intake) io.out(`cvp is listening; send events to ${built.intake.url()}/events (cvp trigger group-testing --to ${built.intake.url()} --wait)`);
  const signal = await stopping;
  log.info({ signal }, 'stopping');
  const bound = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref());
  const result = await Promise.race([built.daemon.stop().then(() => 'stopped' as const), bound]);
  if (result === 'timeout') {
    io.err('cvp: did not stop within 20 s; exiting anyway (the journal resumes the work on the next start)');
    return 1;
  }
  return 0;
}

/** The `cvp` command. Everything it touches (environment, output, fetch, signals) comes in through `io`. */
export async function run(argv: string[], io: RunContext): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName('cvp')
    .strict()
    .recommendCommands()
    .help()
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => { throw err ?? usageError(msg, argv); })
    .command('listen', 'run the daemon', (y) => y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'the YAML configuration' })
      .option('port', { type: 'string', describe: 'the HTTP intake\'s port instead of intake.port (also CVP_INTAKE_PORT); 0: any free port' })
      .option('log-format', { choices: ['json', 'text'] as const, describe: 'JSON lines, or text for a person (default: text when stderr is a terminal, else JSON)' }),
    async (a) => { code = await listen({ config: a.config, logFormat: a['log-format'], port: a.port }, io); })
    .command('trigger [template]', 'send a simulated event', (y) => y
      .positional('template', { type: 'string', choices: Object.keys(TEMPLATES), describe: 'the kind of event to build' })
      .option('set', { type: 'string', array: true, default: [] as string[], describe: 'override a field: path=value (JSON or text), repeatable' })
      .option('file', { type: 'string', describe: 'send this JSON file as the event body instead of a template' })
      .option('topic', { type: 'string', describe: 'the topic (default: the template\'s)' })
      .option('to', { type: 'string', describe: 'a daemon\'s HTTP intake, e.g. http://127.0.0.1:8080' })
      .option('broker', { type: 'string', describe: 'a STOMP broker, e.g. stomp://127.0.0.1:61613' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the event, send nothing' })
      .option('wait', { type: 'boolean', default: false, describe: 'wait for the runs (with --to); exit 0 if all passed, 1 if not' })
      .option('timeout', { type: 'number', default: 1800, describe: 'seconds --wait waits (the intake token, if needed, comes from CVP_INTAKE_TOKEN)' })
      .conflicts('to', 'broker'),
    async (a) => {
      code = await runTrigger({ template: a.template, file: a.file, topic: a.topic, set: a.set, to: a.to, broker: a.broker,
        dryRun: a['dry-run'], wait: a.wait, timeoutS: a.timeout, token: io.env.CVP_INTAKE_TOKEN }, {
        out: io.out, err: io.err, fetch: io.fetch, now: () => new Date(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)), log: io.log ?? createLogger({ level: 'warn', format: 'text' }),
      });
    })
    .command('validate <files..>', 'check event files (or folders of them) against the schemas', (y) => y
      .positional('files', { type: 'string', array: true, demandOption: true })
      .option('topic', { type: 'string', describe: 'the topic the files are for (default: from each file name)' }),
    (a) => {
      const verdicts = validateFiles(a.files as string[], a.topic, new EventValidator(schemasDir));
      printVerdicts(verdicts, io.out);
      code = verdicts.every((v) => v.valid) ? 0 : 1;
    })
    .command('config', 'configuration commands', (y) => y
      .command('check <file>', 'validate a configuration file (--online: and every rule\'s job in Jenkins)', (y2) => y2
        .positional('file', { type: 'string', demandOption: true })
        .option('online', { type: 'boolean', default: false, describe: 'also read each rule\'s job in Jenkins: it must declare CVP_RUN_ID (and the rule\'s parameters)' }),
      async (a) => {
        const validator = new EventValidator(schemasDir);
        const loaded = loadConfig(a.file, io.env, (t) => validator.knows(t));
        // The certificate files and the key's passphrase too, as `listen` would find them.
        checkTlsFiles(loaded, Date.now());
        if (a.online) {
          const check = await onlineCheck(loaded, onlineExecutors(loaded, io.fetch), 'error');
          for (const l of formatOnlineCheck(a.file, check)) (l.includes(': error: ') ? io.err : io.out)(l);
          if (!check.ok) { code = 1; return; }
        }
        io.out(`${a.file}: OK (${loaded.config.rules.length} rule(s): ${loaded.config.rules.map((r) => r.name).join(', ')})`);
      })
      .demandCommand(1, 'say which: cvp config check FILE'))
    .command('status <id>', 'what became of an event, step by step with times: by message id, or by artifact id or NVR', (y) => y
      .positional('id', { type: 'string', demandOption: true })
      .option('config', { alias: 'c', type: 'string', demandOption: true })
      .option('format', { choices: ['json', 'text'] as const, describe: 'text: a timeline; json: what GET /events/<id> gives (default: text when stdout is a terminal, else JSON)' }),
    async (a) => {
      const validator = new EventValidator(schemasDir);
      const loaded = loadConfig(a.config, io.env, (t) => validator.knows(t));
      io.out = redacting(io.out, new Redactor(loaded.secrets));
      const journal = await openJournal(loaded, { forDaemon: false });
      try {
        const ids = (await journal.eventStatus(a.id)) ? [a.id] : await journal.messagesAbout(a.id, 50);
        if (!ids.length) { io.err(`cvp: no event with message id, artifact id or NVR ${a.id} in the journal`); code = 1; return; }
        const views = [];
        for (const id of ids) views.push(eventView((await journal.eventStatus(id))!));
        if ((a.format ?? (io.stdoutIsTTY ? 'text' : 'json')) === 'json') io.out(JSON.stringify(views.length === 1 ? views[0] : views, null, 2));
        else views.forEach((v, i) => [...(i ? [''] : []), ...eventTimeline(v)].forEach((l) => io.out(l)));
      } finally {
        await journal.close();
      }
    })
    .command('decisions', 'the gates\' decisions, newest first (in shadow mode: what would have been released), with waivers and what people did', (y) => y
      .option('config', { alias: 'c', type: 'string', demandOption: true })
      .option('product', { type: 'string', describe: 'only this product' })
      .option('limit', { type: 'number', default: 50 })
      .option('summary', { type: 'boolean', default: false, describe: 'per product: how often people then did what CVP decided in shadow or off (the agreement rate)' })
      .option('since', { type: 'string', default: '30d', describe: 'with --summary: a duration back from now (30d, 12h) or a time (ISO 8601)' })
      .option('waivers', { type: 'boolean', default: false, describe: 'the waivers, with their ids (cvp waive --revoke ID), revoked ones too' }),
    async (a) => {
      const validator = new EventValidator(schemasDir);
      const loaded = loadConfig(a.config, io.env, (t) => validator.knows(t));
      const journal = await openJournal(loaded, { forDaemon: false });
      try {
        code = await runDecisions({ product: a.product, limit: a.limit, summary: a.summary, since: a.since, waivers: a.waivers }, journal, io.out, Date.now());
      } finally {
        await journal.close();
      }
    })
    .command('journal', 'journal commands', (y) => y
      .command('migrate', 'copy a SQLite journal into the PostgreSQL journal named by journal.url (stop every daemon first)', (y2) => y2
        .option('config', { alias: 'c', type: 'string', demandOption: true })
        .option('from', { type: 'string', describe: 'the SQLite file (default: journal.path, else var/cvp.db beside the config)' }),
      async (a) => {
        const validator = new EventValidator(schemasDir);
        const loaded = loadConfig(a.config, io.env, (t) => validator.knows(t));
        code = await runJournalMigrate(loaded, { from: a.from }, io);
      })
      .demandCommand(1, 'say which: cvp journal migrate'))
    .command('replay [ids..]', 're-inject journal messages (chosen, or --rejected) into a running daemon, after validating them again', (y) => y
      .positional('ids', { type: 'string', array: true, default: [] as string[], describe: 'message ids' })
      .option('config', { alias: 'c', type: 'string', demandOption: true })
      .option('rejected', { type: 'boolean', default: false, describe: 'every dead-lettered message' })
      .option('since', { type: 'string', describe: 'with --rejected: received at or after this time (ISO 8601)' })
      .option('to', { type: 'string', describe: 'the daemon\'s intake (default: from the config)' })
      .option('dry-run', { type: 'boolean', default: false }),
    async (a) => {
      const validator = new EventValidator(schemasDir);
      const loaded = loadConfig(a.config, io.env, (t) => validator.knows(t));
      const since = a.since === undefined ? 0 : Date.parse(a.since);
      if (Number.isNaN(since)) throw new CvpError('CONFIG_INVALID', `--since: not a time: ${a.since}`, { permanent: true });
      if (!a.rejected && !(a.ids as string[]).length) throw new CvpError('CONFIG_INVALID', 'say what to replay: message ids, or --rejected', { permanent: true });
      const intake = loaded.config.intake ?? {};
      const port = intakePortOverride(undefined, io.env)?.port ?? intake.port ?? 8080;
      const to = a.to ?? `http://${intake.host ?? '127.0.0.1'}:${port}`;
      const journal = await openJournal(loaded, { forDaemon: false });
      try {
        code = await runReplay({ ids: a.ids as string[], rejected: a.rejected, since, to, dryRun: a['dry-run'], token: loaded.config.intake?.token }, journal, validator, io);
      } finally {
        await journal.close();
      }
    })
    .command('release <gate>', 'release a gate that passed, as a person (recorded, said in the event\'s thread; the daemon carries out the release action)', (y) => actorOptions(y)
      .positional('gate', { type: 'string', demandOption: true, describe: 'a gate key (product|type|artifact), an artifact id or an NVR' }),
    async (a) => { code = await withActions(a, io, async (j) => gateRequest(j, a.gate!, (key) => ({ kind: 'release', gateKey: key }))); })
    .command('hold <gate>', 'hold a gate: say it is not to be released (recorded, said in the thread)', (y) => actorOptions(y)
      .positional('gate', { type: 'string', demandOption: true, describe: 'a gate key (product|type|artifact), an artifact id or an NVR' })
      .option('reason', { type: 'string', describe: 'why, for the thread' }),
    async (a) => { code = await withActions(a, io, async (j) => gateRequest(j, a.gate!, (key) => ({ kind: 'hold', gateKey: key, ...(a.reason ? { reason: a.reason } : {}) }))); })
    .command('rerun <run>', 'run a finished run again: the same job and parameters under a new run id, reported as the first was', (y) => actorOptions(y)
      .positional('run', { type: 'string', demandOption: true, describe: 'the run id (CVP_RUN_ID; cvp status shows it)' }),
    async (a) => { code = await withActions(a, io, async () => ({ kind: 'rerun', runId: a.run! })); })
    .command('waive [gate]', 'accept a failing result of a gate\'s item, as WaiverDB does (per item, test case and scenario, with a reason), or --revoke a waiver', (y) => actorOptions(y)
      .positional('gate', { type: 'string', describe: 'a gate key (product|type|artifact), an artifact id or an NVR' })
      .option('item', { type: 'string', describe: 'the item whose result is waived (an NVR)' })
      .option('type', { type: 'string', describe: 'its item type, when the gate has the same item under two types' })
      .option('testcase', { type: 'string', describe: 'the test case, namespace.type.category' })
      .option('scenario', { type: 'string', describe: 'only this scenario (default: every scenario)' })
      .option('reason', { type: 'string', describe: 'why the failure may be accepted (required)' })
      .option('revoke', { type: 'string', describe: 'revoke this waiver instead (cvp decisions --waivers lists their ids)' }),
    async (a) => {
      code = await withActions(a, io, async (j) => {
        if (a.revoke !== undefined) {
          if (a.gate !== undefined || a.item !== undefined || a.testcase !== undefined) return { problem: '--revoke takes a waiver id alone (with --reason, if you like)' };
          return { kind: 'revoke', waiverId: a.revoke, ...(a.reason ? { reason: a.reason } : {}) };
        }
        const missing = [['GATE', a.gate], ['--item', a.item], ['--testcase', a.testcase], ['--reason', a.reason]].filter(([, v]) => v === undefined || v === '').map(([k]) => k);
        if (missing.length) return { problem: `waive needs ${missing.join(', ')} (or --revoke WAIVER_ID)` };
        return gateRequest(j, a.gate!, (key) => ({
          kind: 'waive', gateKey: key, item: a.item!, testcase: a.testcase!, reason: a.reason!, scenario: a.scenario ?? null, ...(a.type ? { type: a.type } : {}),
        }));
      });
    })
    .demandCommand(1, 'say what to do: listen, trigger, validate, config check, status, decisions, replay, release, hold, rerun or waive');
  try {
    await parser.parseAsync();
  } catch (err) {
    return printProblems(err, io);
  }
  return code;
}

/** The options every action command takes: the config, who acts, and the action's id. */
function actorOptions<T>(y: import('yargs').Argv<T>) {
  return y
    .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'the daemon\'s configuration (its journal)' })
    .option('as', { type: 'string', describe: 'who acts, as the thread names them (default: your user@host)' })
    .option('id', { type: 'string', describe: 'the action\'s id: the same command twice with the same --id acts once' });
}

async function gateRequest(journal: JournalStore, gate: string, make: (key: string) => ActionRequest): Promise<ActionRequest | { problem: string }> {
  const found = await resolveGate(journal, gate);
  return 'problem' in found ? found : make(found.key);
}

/** Loads the config, opens the journal in-process, and records one action. */
async function withActions(a: { config: string } & ActorArgs, io: RunContext, request: (journal: JournalStore) => Promise<ActionRequest | { problem: string }>): Promise<number> {
  const validator = new EventValidator(schemasDir);
  const loaded = loadConfig(a.config, io.env, (t) => validator.knows(t));
  const redactor = new Redactor(loaded.secrets);
  const journal = await openJournal(loaded, { forDaemon: false });
  try {
    return await runAction(loaded, journal, validator, {
      out: redacting(io.out, redactor), err: redacting(io.err, redactor), env: io.env,
      log: io.log ?? createLogger({ level: io.env.CVP_LOG_LEVEL ?? 'warn', format: 'text', redactor }),
    }, { as: a.as, id: a.id }, request);
  } finally {
    await journal.close();
  }
}

/**
 * Resolves on the first SIGTERM or SIGINT. Later ones are absorbed: Ctrl-C under `npm start` reaches
 * the daemon twice (from the terminal, and forwarded by npm), and the second must not cut the clean
 * stop short. Installed only when a command waits for it, so Ctrl-C still ends `cvp trigger --wait`.
 */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    let first: string | undefined;
    const on = (signal: string) => {
      if (first) { process.stderr.write(`cvp: ${signal}: already stopping (at most 20 s)\n`); return; }
      first = signal;
      resolve(signal);
    };
    process.on('SIGTERM', () => on('SIGTERM'));
    process.on('SIGINT', () => on('SIGINT'));
  });
}

export function main(): void {
  let stop: Promise<string> | undefined;
  run(process.argv.slice(2), {
    env: process.env,
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    // Peers are called over keep-alive node:http: a quarter of the built-in fetch's CPU per request.
    fetch: keepAliveFetch(),
    stopSignal: () => (stop ??= stopSignal()),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
  }).then((code) => process.exit(code),
    (err) => { process.stderr.write(`cvp: ${describeError(err)}\n`); process.exit(2); });
}

if (require.main === module) main();
