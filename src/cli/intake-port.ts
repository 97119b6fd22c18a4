import type { Env, LocatedConfig } from '../config/load-config';
import { CvpError, permanentError } from '../errors';

/*
 * The HTTP intake's port without editing the file (`cvp listen --port N`, CVP_INTAKE_PORT=N), and
 * a port or address the intake cannot listen on said with where it came from.
 */

/** A port number as a person typed it, or what is wrong with it, naming where it came from. */
export function parsePort(text: string, source: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(port >= 0 && port <= 65535)) throw permanentError('CONFIG_INVALID', `${source}: expected a port number from 0 to 65535 (0: any free port), found "${text}"`);
  return port;
}

/** Where the intake's port comes from: --port, else CVP_INTAKE_PORT, else the file (intake.port). */
export interface PortChoice { port: number; from: 'flag' | 'env' | 'file' }

export function intakePortOverride(flag: string | undefined, env: Env): PortChoice | undefined {
  if (flag !== undefined) return { port: parsePort(flag, '--port'), from: 'flag' };
  const fromEnv = env.CVP_INTAKE_PORT;
  if (fromEnv !== undefined && fromEnv !== '') return { port: parsePort(fromEnv, 'CVP_INTAKE_PORT'), from: 'env' };
  return undefined;
}

/** Puts --port or CVP_INTAKE_PORT into the loaded configuration, so the file needs no edit. */
export function applyIntakePort(loaded: LocatedConfig, flag: string | undefined, env: Env): PortChoice {
  const override = intakePortOverride(flag, env);
  const intake = loaded.config.intake ?? {};
  if (!override) return { port: intake.port ?? 8080, from: 'file' };
  if (intake.enabled === false) {
    const source = override.from === 'flag' ? `--port ${override.port}` : `CVP_INTAKE_PORT=${override.port}`;
    throw permanentError('CONFIG_INVALID', `${loaded.at(['intake', 'enabled'])}: the intake is turned off, so ${source} has no port to set`);
  }
  loaded.config.intake = { ...intake, port: override.port };
  return override;
}

/** An address the intake cannot listen on, said with where it came from and how to choose another. */
export function listenProblem(err: unknown, loaded: LocatedConfig, choice: PortChoice): unknown {
  const code = err instanceof CvpError ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
  if (!code || !['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND'].includes(code)) return err;
  const message = (err as CvpError).message;
  if (message.startsWith('intake.host: ')) {
    const line = `${loaded.at(['intake', 'host'])}: ${message.slice('intake.host: '.length)}`;
    return permanentError('CONFIG_INVALID', line, [line], err);
  }
  const where = choice.from === 'flag' ? `--port ${choice.port} (intake.port)`
    : choice.from === 'env' ? `CVP_INTAKE_PORT=${choice.port} (intake.port)` : loaded.at(['intake', 'port']);
  const line = `${where}: ${message.replace(/^intake\.port: /, '')}`;
  const hint = `choose another port: intake.port in ${loaded.file}, or without editing it: cvp listen --port N (npm start -- --port N) or CVP_INTAKE_PORT=N`;
  return permanentError('CONFIG_INVALID', line, [line, hint], err);
}
