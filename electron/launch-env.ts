import { z } from 'zod';
import { desktopHubUrlSchema } from './hub-url.js';

const launchEnvSchema = z.object({
  GREENLIGHT_HUB: desktopHubUrlSchema.optional(),
  GREENLIGHT_TOKEN: z.string().min(1).max(512).optional(),
  GREENLIGHT_USER_DATA: z.string().min(1).optional(),
});

export interface LaunchOptions {
  /** Hub URL and token handed over by `npm start`; saved to the keychain on first use. */
  credentials: { hubUrl: string; token: string } | null;
  /** A separate profile folder (tests give each run its own). */
  userData: string | null;
  /** Started by the OS at login: stay in the tray. */
  hidden: boolean;
}

/**
 * Reads the launch environment once and removes the token from it, so no child process inherits it.
 * Invalid values are ignored with a warning rather than keeping the app from starting.
 */
export function readLaunchEnv(env: NodeJS.ProcessEnv, argv: readonly string[], warn: (message: string) => void): LaunchOptions {
  const parsed = launchEnvSchema.safeParse(env);
  delete env.GREENLIGHT_TOKEN;
  if (!parsed.success) {
    warn(`Ignoring GREENLIGHT_HUB / GREENLIGHT_TOKEN / GREENLIGHT_USER_DATA: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    return { credentials: null, userData: null, hidden: argv.includes('--hidden') };
  }
  const { GREENLIGHT_HUB: hubUrl, GREENLIGHT_TOKEN: token, GREENLIGHT_USER_DATA: userData } = parsed.data;
  return {
    credentials: hubUrl && token ? { hubUrl: hubUrl.replace(/\/$/, ''), token } : null,
    userData: userData ?? null,
    hidden: argv.includes('--hidden'),
  };
}
