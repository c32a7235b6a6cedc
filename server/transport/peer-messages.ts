import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import { z } from 'zod';
import { deriveKey } from '../keys/derive-key.js';

/** What hubs sharing a database tell each other directly (beside the adapter's own heartbeats). */
export const PEER_EVENTS = ['request:event', 'user:changed', 'user:disabled', 'pushes:lost', 'hub:leaving'] as const;
export type PeerEvent = (typeof PEER_EVENTS)[number];

/** How far a message's time may be from this hub's: longer than any NOTIFY takes, short enough to remember every message seen within it. */
const FRESH_MS = 60_000;

const signedSchema = z.object({ body: z.string(), at: z.number(), nonce: z.string(), mac: z.string() });
type Signed = z.infer<typeof signedSchema>;

/**
 * Messages between hubs cross PostgreSQL (NOTIFY, and the adapter's attachment table), where anyone
 * who can connect to the database may listen and also send. Each message therefore goes with an HMAC
 * of its event name, time, nonce and body, under a key derived from the key-encryption key: every hub
 * of one database shares that file, and the database does not hold it. A message without a valid
 * HMAC is ignored, and so is one sent again (a nonce already heard, or a time over a minute away), so
 * a forged or replayed one can neither push a request to anyone nor drop their sockets.
 */
export class PeerMessages {
  private readonly key: Buffer;
  /** Nonces heard within the last FRESH_MS, oldest first, with when they were heard. */
  private readonly heard = new Map<string, number>();

  constructor(
    keyEncryptionKey: Buffer,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.key = deriveKey(keyEncryptionKey, 'cross-hub messages v1');
  }

  emit(io: Pick<Server, 'serverSideEmit'>, event: PeerEvent, value: unknown = null): void {
    const body = JSON.stringify(value);
    const at = Date.now();
    const nonce = randomBytes(12).toString('base64url');
    const signed: Signed = { body, at, nonce, mac: this.mac(event, at, nonce, body) };
    io.serverSideEmit(event, signed);
  }

  /** Calls `handler` with each message of `event` another hub of this database signed, once. */
  on(io: Pick<Server, 'on'>, event: PeerEvent, handler: (value: unknown) => void): void {
    io.on(event, (raw: unknown) => {
      const parsed = signedSchema.safeParse(raw);
      if (!parsed.success || !this.signedByAPeer(event, parsed.data)) {
        this.log.warn({ event }, 'ignored a message from another hub without a valid signature: is every hub started with the same key-encryption key file (and the same version)?');
        return;
      }
      if (!this.firstHeard(parsed.data)) {
        this.log.warn({ event }, "ignored a message from another hub sent over a minute ago or heard already: a replay, or a hub's clock is off");
        return;
      }
      handler(JSON.parse(parsed.data.body) as unknown);
    });
  }

  private signedByAPeer(event: string, { body, at, nonce, mac }: Signed): boolean {
    const expected = Buffer.from(this.mac(event, at, nonce, body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private firstHeard({ at, nonce }: Signed): boolean {
    const now = Date.now();
    for (const [seen, when] of this.heard) {
      if (now - when <= FRESH_MS) break;
      this.heard.delete(seen);
    }
    if (Math.abs(now - at) > FRESH_MS || this.heard.has(nonce)) return false;
    this.heard.set(nonce, now);
    return true;
  }

  private mac(event: string, at: number, nonce: string, body: string): string {
    return createHmac('sha256', this.key).update(`${event}\n${at}\n${nonce}\n`).update(body).digest('base64url');
  }
}
