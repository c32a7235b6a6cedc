import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'shifted-clock.mjs');

/** The environment for a HubProcess whose system clock reads `shiftMs` off the real time (the process's `Date`, shifted). */
export function shiftedClockEnv(shiftMs: number): Record<string, string> {
  return {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(PRELOAD).href}`.trim(),
    SHIFTED_CLOCK_MS: String(shiftMs),
  };
}
