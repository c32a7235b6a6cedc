import pino, { type Logger } from 'pino';

export function createLogger(level = process.env.GREENLIGHT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'greenlight-hub' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** The same log lines, into a file only its owner can read (the demo keeps the terminal for its links). */
export function createFileLogger(file: string, level = 'info'): Logger {
  return pino({ level, base: { service: 'greenlight-hub' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: file, sync: true, mode: 0o600 }));
}
