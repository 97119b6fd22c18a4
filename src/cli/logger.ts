import pino from 'pino';
import type { Logger } from '../listener/ports';
import type { Redactor } from '../config/redactor';

export type LogFormat = 'json' | 'text';

/** What was asked for, else text for a person at a terminal and JSON lines for everything else (files, journald, collectors). */
export function logFormatFor(asked: LogFormat | undefined, stderrIsTTY: boolean): LogFormat {
  return asked ?? (stderrIsTTY ? 'text' : 'json');
}

/** JSON lines for machines (default); `text` for a person at a terminal. */
export function createLogger(opts: { level?: string; format?: LogFormat; destination?: NodeJS.WritableStream; redactor?: Redactor }): Logger {
  const dest = opts.destination ?? process.stderr;
  const redact = (s: string) => (opts.redactor ? opts.redactor.redact(s) : s);
  if (opts.format === 'text') {
    return pino({ level: opts.level ?? 'info', base: undefined, timestamp: false, hooks: { streamWrite: redact } }, {
      write(line: string) {
        const { level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const name = ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<string, string>)[String(level)] ?? String(level);
        // Empty fields (reason=null) say nothing to a reader.
        const extra = Object.entries(rest).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
        dest.write(`${new Date().toISOString().slice(11, 23)} ${name.padEnd(5)} ${String(msg)}${extra ? `  ${extra}` : ''}\n`);
      },
    });
  }
  return pino({ level: opts.level ?? 'info', base: { name: 'cvp' }, hooks: { streamWrite: redact } },
    pino.destination({ fd: dest === process.stdout ? 1 : 2, sync: true }));
}
