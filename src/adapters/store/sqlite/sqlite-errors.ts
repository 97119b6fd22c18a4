import { CvpError, transientError } from '../../../errors';

const CAUSES: Array<[RegExp, string]> = [
  [/^SQLITE_FULL/, 'the disk holding the journal is full'],
  [/^SQLITE_READONLY/, 'the journal file is read-only'],
  [/^SQLITE_IOERR/, 'the journal file cannot be written (I/O error)'],
  [/^SQLITE_CANTOPEN/, 'the journal file cannot be opened'],
  [/^SQLITE_BUSY/, 'the journal file is locked by another process'],
  [/^SQLITE_CORRUPT|^SQLITE_NOTADB/, 'the journal file is damaged or not a journal'],
];

/**
 * A store failure as the core sees it: transient (the commit did not happen; nothing acked, retried
 * later), with the cause in words. JOURNAL_UNAVAILABLE when the file cannot be written at all (the
 * daemon is then not ready); JOURNAL_FAILED for a statement that failed. A CvpError (a schema
 * version refused, say) is passed on.
 */
export function journalError(err: unknown): CvpError {
  if (err instanceof CvpError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  const message = (err as Error)?.message ?? String(err);
  const cause = CAUSES.find(([re]) => re.test(code))?.[1];
  if (cause) return transientError('JOURNAL_UNAVAILABLE', `${cause} (${code}: ${message})`);
  return transientError('JOURNAL_FAILED', `journal operation failed: ${message}${code ? ` (${code})` : ''}`);
}

/** What crosses from the worker thread: an Error loses its class and code in a structured clone. */
export interface WireError { message: string; code?: string; cvp?: { code: string; permanent: boolean; reasons: string[] } }

export function toWire(err: unknown): WireError {
  if (err instanceof CvpError) return { message: err.message, cvp: { code: err.code, permanent: err.permanent, reasons: err.reasons } };
  return { message: (err as Error)?.message ?? String(err), code: (err as { code?: string }).code };
}

export function fromWire(w: WireError): CvpError {
  if (w.cvp) return new CvpError(w.cvp.code as CvpError['code'], w.message, { permanent: w.cvp.permanent, reasons: w.cvp.reasons });
  return journalError(Object.assign(new Error(w.message), { code: w.code }));
}
