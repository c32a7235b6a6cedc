import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** An urgent alert posted to a Slack channel for one outbox delivery. */
export interface SlackAlertPostedRecord {
  notificationId: string;
  channelId: string;
  createdAt: string;
}

/** The urgent alerts posted per delivery and channel (table `slack_alerts_posted`), so a retried delivery posts each at most once. */
export const slackAlertStore = {
  /** Records a post; recording it twice (two hubs, one lease ended) keeps the first. */
  async insert(db: Executor, record: SlackAlertPostedRecord): Promise<void> {
    await db
      .insertInto('slack_alerts_posted')
      .values({ notification_id: record.notificationId, channel_id: record.channelId, created_at: record.createdAt })
      .onConflict((oc) => oc.doNothing())
      .execute();
  },

  /** The channels this delivery already alerted. */
  async channelsOf(db: Executor, notificationId: string): Promise<Set<string>> {
    const rows = await db.selectFrom('slack_alerts_posted').select('channel_id').where('notification_id', '=', notificationId).execute();
    return new Set(rows.map((row) => row.channel_id));
  },

  /**
   * Forgets posts recorded before `before` whose delivery is no longer pending: the dispatcher will
   * not try it again on its own. A failed one an admin retries later than that may post again.
   */
  async pruneBefore(db: Executor, before: string): Promise<void> {
    await db
      .deleteFrom('slack_alerts_posted')
      .where('created_at', '<', before)
      .where('notification_id', 'not in', db.selectFrom('outbox').select('id').where('status', '=', 'pending'))
      .execute();
  },
};
