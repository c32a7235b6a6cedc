import { GreenlightError } from '../protocol/errors.js';
import type { Ack } from '../protocol/events.js';

/** Runs a call and folds any failure into an error Ack: Electron's IPC would drop an Error's code. */
export async function toAck<T>(run: () => Promise<T> | T): Promise<Ack<T>> {
  try {
    return { data: await run() };
  } catch (error) {
    if (error instanceof GreenlightError) return { error: error.toWire() };
    const message = error instanceof Error ? error.message : String(error);
    return { error: { code: 'INTERNAL', message } };
  }
}
