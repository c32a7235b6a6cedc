import type { Context } from '../../domain/context.js';
import { slackAlertStore } from '../../store/slack-alerts.js';
import { consoleLink } from '../chat-text.js';
import { reviewAlreadyIn } from '../no-longer-due.js';
import type { SlackApp, SlackRow } from './app.js';
import { overdueReviewAudience } from '../overdue-review-audience.js';
import { loadRow, slackApprovers, toEachMember } from './delivery.js';
import { alertBlocks, alertText } from './message.js';
import { SLACK_DM_TARGET, slackChannelOf } from './targets.js';

type SlackAlertRow = Extract<SlackRow, { kind: 'alert' }>;

/**
 * An urgent line (break-glass) posted on its own, beside the request's message: it is news, not a
 * decision, so later refreshes of the request's message leave it as it was. Each channel gets it at
 * most once per outbox row (`notificationId`): a retry after one approver's post failed skips those
 * already alerted. Resolves with why nothing was posted when the alert is no longer due.
 */
export async function postAlertForTarget(ctx: Context, app: SlackApp, notificationId: string, alert: SlackAlertRow): Promise<string | null> {
  const { requestId, target, message } = alert;
  const row = await loadRow(ctx, requestId);
  if (!row) return null;
  if (alert.event === 'request.break_glass_overdue') {
    // A retry reaching Slack after the review is in would send the reviewers after nothing (as email, see whyNoLongerDue).
    const reviewed = await reviewAlreadyIn(ctx.store.db, requestId);
    if (reviewed) return `not posted: ${reviewed} before this alert could go out`;
  }
  const posted = await slackAlertStore.channelsOf(ctx.store.db, notificationId);
  const text = alertText(message);
  const link = consoleLink(ctx.outbox?.publicUrl ?? '', requestId);
  const blocks = alertBlocks(message, link);
  const post = async (channel: string) => {
    if (posted.has(channel)) return;
    await app.pacing.wait(channel);
    await app.client.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
    // Should this write fail after Slack took the post, the retry posts here again: the one duplicate left.
    await slackAlertStore.insert(ctx.store.db, { notificationId, channelId: channel, createdAt: ctx.clock.now().toISOString() });
  };
  const channel = slackChannelOf(target);
  if (channel) {
    await post(channel);
    return null;
  }
  if (target !== SLACK_DM_TARGET) return null;
  // An overdue review is for those who owe it and those chasing it, not for the rule's approvers.
  const audience = alert.event === 'request.break_glass_overdue' ? overdueReviewAudience(row.rule, SLACK_DM_TARGET) : null;
  await toEachMember(ctx, requestId, await slackApprovers(ctx, row, audience), async (slackUserId) => {
    const opened = await app.client.conversations.open({ users: slackUserId });
    if (opened.channel?.id) await post(opened.channel.id);
  });
  return null;
}
