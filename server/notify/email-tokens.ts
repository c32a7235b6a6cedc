import { createHash, createHmac } from 'node:crypto';
import type { DecisionKind } from '../../protocol/index.js';
import { deriveKey } from '../keys/derive-key.js';

/**
 * The tokens in email Approve/Deny links. A token is the HMAC of its notification's id and decision
 * (and, for a delegate of several approvers, the one it decides for) under a key every hub derives from the key-encryption key (a file outside the database that every
 * hub of one database shares), so the outbox keeps no token (the message is built at send time), the
 * hub stores only each token's SHA-256, and rotating the grant signing key leaves sent links working.
 */
export function emailActionKey(keyEncryptionKey: Buffer): Buffer {
  return deriveKey(keyEncryptionKey, 'email action tokens v1');
}

export function emailActionToken(key: Buffer, notificationId: string, decision: DecisionKind, onBehalfOf: string | null = null): string {
  // Ids and decisions have no dot, so a name after the second one can't be mistaken for either.
  const signed = onBehalfOf === null ? `${notificationId}.${decision}` : `${notificationId}.${decision}.${onBehalfOf}`;
  return createHmac('sha256', key).update(signed).digest('base64url');
}

export function emailActionTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token as links carry it: 43 base64url characters. */
export const EMAIL_ACTION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
