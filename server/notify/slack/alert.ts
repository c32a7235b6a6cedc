import type { Context } from '../../domain/context.js';
import { consoleLink } from '../chat-text.js';
import type { SlackApp } from './app.js';
import { loadRow, slackApprovers } from './delivery.js';
import { escapeSlack } from './message.js';
import { SLACK_DM_TARGET, slackChannelOf } from './targets.js';

/**
 * An urgent line (break-glass) posted on its own, beside the request's message: it is news, not a
 * decision, so later refreshes of the request's message leave it as it was.
 */
export async function postAlertForTarget(ctx: Context, app: SlackApp, requestId: string, target: string, message: string): Promise<void> {
  const row = await loadRow(ctx, requestId);
  if (!row) return;
  const text = `:rotating_light: URGENT: ${message}`;
  const link = consoleLink(ctx.outbox?.publicUrl ?? '', requestId);
  const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: `:rotating_light: *URGENT* ${escapeSlack(message)}\n<${link}|Open in Greenlight>` } }];
  const post = async (channel: string) => {
    await app.pacing.wait(channel);
    await app.client.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
  };
  const channel = slackChannelOf(target);
  if (channel) return post(channel);
  if (target !== SLACK_DM_TARGET) return;
  for (const { slackUserId } of await slackApprovers(ctx, row)) {
    const opened = await app.client.conversations.open({ users: slackUserId });
    if (opened.channel?.id) await post(opened.channel.id);
  }
}
