import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { deriveKey } from '../keys/derive-key.js';

/** How far a message's time may be from now: longer than any NOTIFY takes, short enough to remember every message heard within it. */
export const FRESH_MS = 60_000;

/** What the adapter sends: its sender, its kind, its namespace and its contents. */
export interface AdapterMessage {
  uid?: string;
  type: number;
  nsp?: string;
  data?: unknown;
}

const authSchema = z.object({ at: z.number(), nonce: z.string(), mac: z.string() });
type Auth = z.infer<typeof authSchema>;

export type Verdict = 'signed' | 'unsigned' | 'replayed' | 'out of time';

/**
 * Adapter messages between hubs cross PostgreSQL (NOTIFY, and the attachment table for long ones),
 * where anyone who can connect to the database may listen and also send. Each message therefore goes
 * with an HMAC of its sender, kind, namespace and contents, its time and a nonce, under a key derived
 * from the key-encryption key: every hub of one database shares that file, and the database does not
 * hold it. A message without a valid HMAC is unsigned; one sent again is replayed (a nonce already
 * heard) or out of time (a time over a minute away). Times are read from `now`, a clock every hub
 * of the database shares (the database's, `DatabaseClock`): hubs' own clocks may disagree.
 */
export class PeerSignature {
  private readonly key: Buffer;
  /**
   * Nonces heard, in the order heard, with each one's time and when it may be forgotten: once its time is over
   * FRESH_MS past, when it would be refused as out of time anyway (a message timed a little ahead
   * of this hub's reading is kept that much longer).
   */
  private readonly heard = new Map<string, { at: number; forgetAfter: number }>();
  /**
   * The latest time of a message whose nonce was forgotten: any message timed at or before it is
   * refused as out of time, whatever `now` reads. Forgetting is only safe while `now` never goes
   * back, and the shared clock can (a new measurement moves it either way): without this, a message
   * forgotten at the edge of the minute would be taken again once `now` stepped back past it.
   */
  private forgottenUpTo = Number.NEGATIVE_INFINITY;

  constructor(
    keyEncryptionKey: Buffer,
    /** The shared clock, in milliseconds since the epoch. */
    private readonly now: () => number = Date.now,
  ) {
    this.key = deriveKey(keyEncryptionKey, 'cross-hub messages v1');
  }

  sign<M extends AdapterMessage>(message: M): M & { auth: Auth } {
    const at = this.now();
    const nonce = randomBytes(12).toString('base64url');
    return { ...message, auth: { at, nonce, mac: this.mac(message, at, nonce) } };
  }

  check(message: AdapterMessage & { auth?: unknown }): Verdict {
    const auth = authSchema.safeParse(message.auth);
    if (!auth.success) return 'unsigned';
    const expected = Buffer.from(this.mac(message, auth.data.at, auth.data.nonce), 'base64url');
    const given = Buffer.from(auth.data.mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'unsigned';
    return this.firstHeard(auth.data);
  }

  private firstHeard({ at, nonce }: Auth): Verdict {
    const now = this.now();
    for (const [seen, { at: seenAt, forgetAfter }] of this.heard) {
      if (forgetAfter >= now) break;
      this.heard.delete(seen);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, seenAt);
    }
    if (Math.abs(now - at) > FRESH_MS || at <= this.forgottenUpTo) return 'out of time';
    if (this.heard.has(nonce)) return 'replayed';
    this.heard.set(nonce, { at, forgetAfter: Math.max(now, at) + FRESH_MS });
    return 'signed';
  }

  /** Over the message as JSON: what the adapter sends by NOTIFY, or as MessagePack through its table, reads back the same (no `undefined` in what hubs send). */
  private mac({ uid, type, nsp, data }: AdapterMessage, at: number, nonce: string): string {
    return createHmac('sha256', this.key)
      .update(`${at}\n${nonce}\n`)
      .update(JSON.stringify([uid ?? null, type, nsp ?? null, data ?? null]))
      .digest('base64url');
  }
}
