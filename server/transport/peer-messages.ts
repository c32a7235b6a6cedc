import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import { z } from 'zod';
import { deriveKey } from '../keys/derive-key.js';

/** What hubs sharing a database tell each other directly (beside the adapter's own traffic). */
export type PeerEvent = 'request:event' | 'user:changed' | 'user:disabled' | 'pushes:lost' | 'hub:leaving';

const signedSchema = z.object({ body: z.string(), mac: z.string() });
type Signed = z.infer<typeof signedSchema>;

/**
 * Messages between hubs cross PostgreSQL (NOTIFY, and the adapter's attachment table), where anyone
 * who can connect to the database may listen and also send. Each message therefore goes with an HMAC
 * of its event name and body, under a key derived from the key-encryption key: every hub of one
 * database shares that file, and the database does not hold it. A message without a valid HMAC is
 * ignored, so a forged one can neither push a request to anyone nor drop their sockets.
 */
export class PeerMessages {
  private readonly key: Buffer;

  constructor(
    keyEncryptionKey: Buffer,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.key = deriveKey(keyEncryptionKey, 'cross-hub messages v1');
  }

  emit(io: Pick<Server, 'serverSideEmit'>, event: PeerEvent, value: unknown = null): void {
    const body = JSON.stringify(value);
    const signed: Signed = { body, mac: this.mac(event, body) };
    io.serverSideEmit(event, signed);
  }

  /** Calls `handler` with each message of `event` another hub of this database signed. */
  on(io: Pick<Server, 'on'>, event: PeerEvent, handler: (value: unknown) => void): void {
    io.on(event, (raw: unknown) => {
      const parsed = signedSchema.safeParse(raw);
      const expected = parsed.success ? Buffer.from(this.mac(event, parsed.data.body), 'base64url') : null;
      const given = parsed.success ? Buffer.from(parsed.data.mac, 'base64url') : null;
      if (!parsed.success || !expected || !given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        this.log.warn({ event }, "ignored a message from another hub without a valid signature: is every hub started with the same key-encryption key file (and the same version)?");
        return;
      }
      handler(JSON.parse(parsed.data.body) as unknown);
    });
  }

  private mac(event: string, body: string): string {
    return createHmac('sha256', this.key).update(event).update('\n').update(body).digest('base64url');
  }
}
