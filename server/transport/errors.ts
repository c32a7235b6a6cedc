import { GreenlightError, HTTP_STATUS, type WireError } from '../../protocol/index.js';
import type { Logger } from 'pino';

/** Maps anything thrown to a wire error; unexpected errors are logged and shown without internals. */
export function toWireError(error: unknown, log: Logger): WireError {
  if (error instanceof GreenlightError) return error.toWire();
  log.error({ err: error }, 'unexpected error');
  return { code: 'INTERNAL', message: 'The hub hit an unexpected error; it was logged. Try again, and tell an admin if it persists.' };
}

export const statusOf = (error: WireError): number => HTTP_STATUS[error.code];
