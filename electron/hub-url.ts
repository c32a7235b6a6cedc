import { z } from 'zod';
import { httpUrlSchema } from '../protocol/request.js';

const LOOPBACK_NAMES = new Set(['localhost', '[::1]']);
const isLoopback = (hostname: string): boolean => LOOPBACK_NAMES.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);

/**
 * The app sends its token with every call and on every connection: over plain http anyone on the
 * network between it and the hub reads it. http is for a hub on this machine only.
 */
export function insecureHubProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an http:// or https:// URL';
  }
  if (parsed.protocol === 'https:' || isLoopback(parsed.hostname)) return null;
  return `use https:// for a hub on another machine: over ${parsed.protocol}// your token would cross the network unencrypted (http is for a hub on this machine: localhost, 127.0.0.1, [::1])`;
}

/** A hub address the desktop app may send its token to. */
export const desktopHubUrlSchema = httpUrlSchema.superRefine((url, ctx) => {
  const problem = insecureHubProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export type DesktopHubUrl = z.infer<typeof desktopHubUrlSchema>;
