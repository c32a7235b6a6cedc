import pino, { type Logger } from 'pino';

export function createLogger(level = process.env.GREENLIGHT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'greenlight-hub' }, timestamp: pino.stdTimeFunctions.isoTime });
}
