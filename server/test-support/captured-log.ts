import { Writable } from 'node:stream';
import pino from 'pino';

/** A pino logger writing to memory, and what it wrote, parsed: for tests that check what the hub logs. */
export function capturedLog<Line extends { level: number; msg: string }>(level: pino.Level = 'warn'): { logger: pino.Logger; lines: () => Line[]; warnings: () => Line[] } {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const lines = () => written.map((line) => JSON.parse(line) as Line);
  return { logger: pino({ level }, stream), lines, warnings: () => lines().filter((entry) => entry.level === 40) };
}
