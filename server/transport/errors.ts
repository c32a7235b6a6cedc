import { GreenlightError, HTTP_STATUS, type WireError } from '../../protocol/index.js';
import type { Logger } from 'pino';

/** Maps anything thrown to a wire error; unexpected errors are logged and shown without internals. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

function isDatabaseUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (typeof code === 'string' && CONNECTION_ERRORS.has(code)) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message);
}

export function toWireError(error: unknown, log: Logger): WireError {
  if (error instanceof GreenlightError) return error.toWire();
  if (isDatabaseUnreachable(error)) {
    log.warn({ err: error }, 'database unreachable');
    return { code: 'UNAVAILABLE', message: 'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds.' };
  }
  log.error({ err: error }, 'unexpected error');
  return { code: 'INTERNAL', message: 'The hub hit an unexpected error; it was logged. Try again, and tell an admin if it persists.' };
}

export const statusOf = (error: WireError): number => HTTP_STATUS[error.code];
