import type { Kysely } from 'kysely';
import type { Database, EmailActionsTable } from '../store/schema.js';
import { requestStore } from '../store/requests.js';
import { userStore } from '../store/users.js';
import type { EmailPayload } from './email-payload.js';
import { emailActionToken, emailActionTokenHash } from './email-tokens.js';

/** A link works this long at most from when its message goes out, and never past the request's own expiry. */
const LINK_LIFETIME_MS = 24 * 3_600_000;

/** Until when a link made or sent at `now` works. */
export function linkExpiry(now: Date, requestExpiresAt: string | null): string {
  const requestExpiry = requestExpiresAt ? Date.parse(requestExpiresAt) : Infinity;
  return new Date(Math.min(now.getTime() + LINK_LIFETIME_MS, requestExpiry)).toISOString();
}

/**
 * Makes the Approve and Deny links of a message going out now work for a full lifetime from now. A
 * message may wait days for the SMTP server, or be retried by an admin, while its request still waits:
 * its buttons must not open an "expired" page. A link used stays used; one pruned long after it
 * lapsed is written again (its token is the same, recomputed from the row's id).
 */
export async function renewEmailLinks(db: Kysely<Database>, key: Buffer, notificationId: string, payload: EmailPayload, now: Date): Promise<void> {
  if (payload.alert !== null) return;
  const user = await userStore.byName(db, payload.to.name);
  const request = await requestStore.byId(db, payload.request.id);
  // Checked just before as not due (whyNoLongerDue): nothing to renew.
  if (!user || !request) return;
  const expiresAt = linkExpiry(now, request.expires_at);
  const createdAt = now.toISOString();
  const links: EmailActionsTable[] = (payload.decidesFor.length ? payload.decidesFor : [null]).flatMap((onBehalfOf) =>
    (['approve', 'deny'] as const).map((decision) => ({
      token_hash: emailActionTokenHash(emailActionToken(key, notificationId, decision, onBehalfOf)),
      notification_id: notificationId,
      request_id: request.id,
      user_id: user.id,
      decision,
      on_behalf_of: onBehalfOf,
      expires_at: expiresAt,
      used_at: null,
      created_at: createdAt,
    })),
  );
  await db
    .insertInto('email_actions')
    .values(links)
    .onConflict((oc) => oc.column('token_hash').doUpdateSet({ expires_at: expiresAt }).where('email_actions.used_at', 'is', null).where('email_actions.expires_at', '<', expiresAt))
    .execute();
}
