import yargs from 'yargs';
import { loadConfig, type Env } from '../config/load-config';
import { CvpError, describeError } from '../errors';
import { eventView } from '../listener/views/event-view';
import { systemClock, type Logger } from '../listener/ports';
import { schemasDir } from '../paths';
import { EventValidator } from '../validator/event-validator';
import { Redactor } from '../config/redactor';
import { buildDaemon } from './build-daemon';
import { openJournal } from './open-journal';
import { TEMPLATES } from './event-templates';
import { createLogger, type LogFormat } from './logger';
import { runReplay } from './replay-command';
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

async function listen(configFile: string, logFormat: LogFormat, io: RunContext): Promise<number> {
  const validator = new EventValidator(schemasDir);
  const loaded = loadConfig(configFile, io.env, (t) => validator.knows(t));
  const redactor = new Redactor(loaded.secrets);
  io.out = redacting(io.out, redactor);
  io.err = redacting(io.err, redactor);
  const log = io.log ?? createLogger({ level: io.env.CVP_LOG_LEVEL, format: logFormat, redactor });
  const built = await buildDaemon(loaded, { env: io.env, clock: systemClock, log, print: io.out, fetch: io.fetch }, validator);
  await built.daemon.start();
  if (built.intake) io.out(`cvp is listening; send events to ${built.intake.url()}/events (cvp trigger group-testing --to ${built.intake.url()} --wait)`);
  const signal = await io.stopSignal();
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
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => { throw err ?? new CvpError('CONFIG_INVALID', msg, { permanent: true }); })
    .command('listen', 'run the daemon', (y) => y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'the YAML configuration' })
      .option('log-format', { choices: ['json', 'text'] as const, default: 'json' as const, describe: 'JSON lines, or text for a terminal' }),
    async (a) => { code = await listen(a.config, a['log-format'], io); })
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
      .command('check <file>', 'validate a configuration file', (y2) => y2.positional('file', { type: 'string', demandOption: true }),
        (a) => {
          const validator = new EventValidator(schemasDir);
          const loaded = loadConfig(a.file, io.env, (t) => validator.knows(t));
          // The certificate files and the key's passphrase too, as `listen` would find them.
          checkTlsFiles(loaded.config, loaded.dir, Date.now());
          io.out(`${a.file}: OK (${loaded.config.rules.length} rule(s): ${loaded.config.rules.map((r) => r.name).join(', ')})`);
        })
      .demandCommand(1, 'say which: cvp config check FILE'))
    .command('status <id>', 'what became of an event: by message id, or by artifact id or NVR', (y) => y
      .positional('id', { type: 'string', demandOption: true })
      .option('config', { alias: 'c', type: 'string', demandOption: true }),
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
        io.out(JSON.stringify(views.length === 1 ? views[0] : views, null, 2));
      } finally {
        await journal.close();
      }
    })
    .command('decisions', 'the gates\' decisions, newest first (in shadow mode: what would have been released)', (y) => y
      .option('config', { alias: 'c', type: 'string', demandOption: true })
      .option('product', { type: 'string', describe: 'only this product' })
      .option('limit', { type: 'number', default: 50 }),
    async (a) => {
      const validator = new EventValidator(schemasDir);
      const loaded = loadConfig(a.config, io.env, (t) => validator.knows(t));
      const journal = await openJournal(loaded, { forDaemon: false });
      try {
        const rows = await journal.decisions(a.product, a.limit);
        io.out(`${'WHEN'.padEnd(24)}  ${'DECISION'.padEnd(8)}  ${'MODE'.padEnd(6)}  ${'ACTION'.padEnd(16)}  GATE (product|type|artifact)`);
        for (const d of rows) {
          io.out(`${new Date(d.createdAt).toISOString().padEnd(24)}  ${d.decision.padEnd(8)}  ${d.mode.padEnd(6)}  ${d.action.padEnd(16)}  ${d.gateKey}`);
        }
        const counts = rows.reduce<Record<string, number>>((m, d) => ({ ...m, [d.action]: (m[d.action] ?? 0) + 1 }), {});
        io.out(`${rows.length} decision(s)${Object.keys(counts).length ? `: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}` : ''}`);
      } finally {
        await journal.close();
      }
    })
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
      const to = a.to ?? `http://${intake.host ?? '127.0.0.1'}:${intake.port ?? 8080}`;
      const journal = await openJournal(loaded, { forDaemon: false });
      try {
        code = await runReplay({ ids: a.ids as string[], rejected: a.rejected, since, to, dryRun: a['dry-run'], token: loaded.config.intake?.token }, journal, validator, io);
      } finally {
        await journal.close();
      }
    })
    .demandCommand(1, 'say what to do: listen, trigger, validate, config check, status or replay');
  try {
    await parser.parseAsync();
  } catch (err) {
    return printProblems(err, io);
  }
  return code;
}

export function main(): void {
  const stop = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  run(process.argv.slice(2), {
    env: process.env,
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    fetch,
    stopSignal: () => stop,
  }).then((code) => process.exit(code),
    (err) => { process.stderr.write(`cvp: ${describeError(err)}\n`); process.exit(2); });
}

if (require.main === module) main();
