import { createHash } from 'node:crypto';
import type { Policy } from '../../protocol/index.js';
import { canonicalJson } from '../store/json.js';

/** How many hex digits of a digest people are shown: enough to tell two policies apart at a glance. */
const SHORT_DIGEST_LENGTH = 12;

/**
 * The SHA-256 (hex) of a policy as parsed: defaults filled in and durations in seconds, so
 * whitespace, comments, key order and `5m` against `300s` don't change it, and any change to what a
 * rule decides does. Hubs on one database compare it to find one running another policy.
 */
export function policyDigest(policy: Policy): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex');
}

/** The first digits of a digest, as logs and the admin's status show it. */
export const shortDigest = (digest: string): string => digest.slice(0, SHORT_DIGEST_LENGTH);
