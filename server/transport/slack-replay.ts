import type { Context } from '../domain/context.js';
import { SLACK_SIGNATURE_WINDOW_SECONDS } from './slack-signature.js';

const PRUNE_EVERY_MS = 60_000;

/**
 * Signatures accepted within the window, kept in the database so a body replayed to another hub is
 * refused there too. A signature is kept a little longer than its timestamp is accepted.
 */
export class SlackReplayGuard {
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: Context) {}

  /** True the first time a signature is seen; false for a replay. */
  async firstSight(signature: string, timestampSeconds: number): Promise<boolean> {
    const { db } = this.ctx.store;
    const now = this.ctx.clock.now().getTime();
    if (now - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await db.deleteFrom('slack_seen_signatures').where('expires_at', '<', new Date(now).toISOString()).execute();
    }
    const expiresAt = new Date((timestampSeconds + 2 * SLACK_SIGNATURE_WINDOW_SECONDS) * 1000).toISOString();
    const inserted = await db.insertInto('slack_seen_signatures').values({ signature, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
