import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { DecisionKind } from '../../protocol/index.js';
import type { SigningKeys } from '../domain/signing-keys.js';

/**
 * The tokens in email Approve/Deny links. A token is the HMAC of its notification's id and decision
 * under a key every hub derives from the signing key in the database, so the outbox keeps no token
 * (the message is built at send time) and the hub stores only each token's SHA-256.
 */
const keyCache = new WeakMap<SigningKeys, Buffer>();

export function emailActionKey(keys: SigningKeys): Buffer {
  let key = keyCache.get(keys);
  if (!key) {
    const secret = keys.privateKey.export({ format: 'jwk' }).d ?? '';
    key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'base64url'), 'greenlight', 'email action tokens v1', 32));
    keyCache.set(keys, key);
  }
  return key;
}

export function emailActionToken(key: Buffer, notificationId: string, decision: DecisionKind): string {
  return createHmac('sha256', key).update(`${notificationId}.${decision}`).digest('base64url');
}

export function emailActionTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token as links carry it: 43 base64url characters. */
export const EMAIL_ACTION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
