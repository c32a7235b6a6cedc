import type { Context } from '../../domain/context.js';
import { delegatesReachedFor } from '../../domain/delegate-recipients.js';
import { buildView, isEligibleApprover, withoutSecrets, viewReader } from '../../domain/request-view.js';
import { requestStore, type RequestRecord } from '../../store/requests.js';
import { userStore } from '../../store/users.js';
import { exclusively, type Lease } from '../../store/exclusively.js';
import { actorWithoutToken } from '../../identity/link-actor.js';
import type { SlackApp } from './app.js';
import { platformErrorOf } from './errors.js';
import { renderSlackMessage, type SlackMessage } from './message.js';
import { SLACK_DM_TARGET, slackChannelOf } from './targets.js';

export async function loadRow(ctx: Context, requestId: string): Promise<RequestRecord | undefined> {
  return requestStore.byId(ctx.store.db, requestId);
}

async function render(ctx: Context, app: SlackApp, row: RequestRecord): Promise<SlackMessage> {
  const view = withoutSecrets(await buildView(viewReader(ctx), row, null));
  return renderSlackMessage(view, { publicUrl: ctx.outbox?.publicUrl ?? '', chatApprove: row.rule.chatApprove !== false });
}

/**
 * Active users with a Slack member id who may decide this request now, the requester never; and the
 * active delegates of those who may, once each. With an `audience`, only those it names (by user or
 * group) and their delegates.
 */
export async function slackApprovers(ctx: Context, row: RequestRecord, audience: ReadonlySet<string> | null = null): Promise<{ slackUserId: string }[]> {
  // Only those the request names can be eligible; the check below still decides who is.
  const users = await userStore.activeNamedOrInGroups(ctx.store.db, row.eligible_users, row.eligible_groups);
  if (users.length === 0) return [];
  const groups = await userStore.groupsOfUsers(ctx.store.db, users.map((user) => user.id));
  const eligible: string[] = [];
  const reached = new Set<string>();
  for (const user of users) {
    const actor = actorWithoutToken(user, groups.get(user.id) ?? []);
    if (actor.id === row.requester_id || !isEligibleApprover(row, actor)) continue;
    if (audience && !audience.has(actor.name) && !actor.groups.some((group) => audience.has(group))) continue;
    eligible.push(actor.id);
    if (user.slackUserId) reached.add(user.slackUserId);
  }
  for (const delegate of await delegatesReachedFor(ctx.store.db, eligible, row.rule.name, row.requester_id, ctx.clock.now())) {
    if (delegate.slackUserId) reached.add(delegate.slackUserId);
  }
  return [...reached].map((slackUserId) => ({ slackUserId }));
}

async function postOne(ctx: Context, app: SlackApp, lease: Lease, row: RequestRecord, channel: string, target: string, slackUserId: string | null, message: SlackMessage): Promise<void> {
  await app.pacing.wait(channel);
  await lease.renew();
  const posted = await app.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false });
  if (!posted.channel || !posted.ts) throw new Error('Slack did not say where the message went');
  await ctx.store.db
    .insertInto('slack_messages')
    .values({ request_id: row.id, channel_id: posted.channel, ts: posted.ts, target, slack_user_id: slackUserId, created_at: ctx.clock.now().toISOString() })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Posts the request where `target` says, once: a channel that already has its message, or an
 * approver already messaged, is skipped, so a retried row or an escalation never posts twice. When
 * the request changed while posting, the new messages are brought up to date at once.
 */
export async function postForTarget(ctx: Context, app: SlackApp, requestId: string, target: string, signal?: AbortSignal): Promise<void> {
  // Two notifications of one request (created and escalated at once, or a retry beside a newer one)
  // may reach here together, on one hub or two: each looks for what was posted only after the other
  // has posted and recorded it. The claim holds no database connection while Slack answers, so a slow
  // Slack slows Slack messages only. A hub that dies mid-post is taken over once its claim's lease
  // ends: a message it posted but had not recorded yet is then posted again, the one duplicate left.
  const row = await exclusively(ctx, `slack:${requestId}:${target}`, (lease) => postMissing(ctx, app, lease, requestId, target), signal);
  if (!row) return;
  const now = await loadRow(ctx, requestId);
  if (now && Number(now.version) !== Number(row.version)) await refreshMessages(ctx, app, requestId);
}

/** Posts what is missing for the target; the request as rendered, or null when there is nothing to do. */
async function postMissing(ctx: Context, app: SlackApp, lease: Lease, requestId: string, target: string): Promise<RequestRecord | null> {
  const row = await loadRow(ctx, requestId);
  if (!row) return null;
  const existing = await ctx.store.db.selectFrom('slack_messages').select(['target', 'slack_user_id']).where('request_id', '=', requestId).execute();
  const message = await render(ctx, app, row);
  const channel = slackChannelOf(target);
  if (channel) {
    if (!existing.some((posted) => posted.target === target)) await postOne(ctx, app, lease, row, channel, target, null, message);
  } else if (target === SLACK_DM_TARGET) {
    // Only while it waits for a decision: an approver who joins later would get a finished request.
    if (row.status !== 'pending') return null;
    const messaged = new Set(existing.filter((posted) => posted.target === SLACK_DM_TARGET).map((posted) => posted.slack_user_id));
    const waiting = (await slackApprovers(ctx, row)).filter(({ slackUserId }) => !messaged.has(slackUserId));
    await toEachMember(ctx, requestId, waiting, async (slackUserId) => {
      const opened = await app.client.conversations.open({ users: slackUserId });
      const dm = opened.channel?.id;
      if (!dm) throw new Error('Slack opened no direct message channel');
      await postOne(ctx, app, lease, row, dm, target, slackUserId, message);
    });
  } else {
    return null;
  }
  return row;
}

/**
 * Messages each member in turn. One Slack refuses (an account deleted in Slack, a member id mistyped
 * in Greenlight) must not keep those after it from hearing of the request: the rest are messaged, and
 * the refusal then fails the attempt, so it is tried again (those messaged are skipped) and shows in
 * `notify list`. Slack unreachable or rate limiting: the next would fare no better, so it stops there.
 */
export async function toEachMember(ctx: Context, requestId: string, members: { slackUserId: string }[], send: (slackUserId: string) => Promise<void>): Promise<void> {
  let refused: unknown = null;
  for (const { slackUserId } of members) {
    try {
      await send(slackUserId);
    } catch (error) {
      const code = platformErrorOf(error);
      if (code === null) throw error;
      ctx.log.warn({ request: requestId, slackUser: slackUserId, slack: code }, 'Slack refused a direct message to this member; the other approvers were messaged');
      refused ??= error;
    }
  }
  if (refused !== null) throw refused;
}

/** How often one refresh renders again because the request changed while it was updating. */
const MAX_RENDERS = 5;

/**
 * Rewrites every message posted for the request, on any hub, with the request as it stands now.
 * Refreshes run side by side (here and on other hubs), so one that finishes after a newer change
 * would leave an older state: each looks at the version again when done and renders again if it moved.
 */
export async function refreshMessages(ctx: Context, app: SlackApp, requestId: string): Promise<void> {
  for (let pass = 0; pass < MAX_RENDERS; pass++) {
    const row = await loadRow(ctx, requestId);
    if (!row) return;
    await updateAll(ctx, app, row);
    const now = await loadRow(ctx, requestId);
    if (!now || Number(now.version) === Number(row.version)) return;
  }
}

async function updateAll(ctx: Context, app: SlackApp, row: RequestRecord): Promise<void> {
  const requestId = row.id;
  const messages = await ctx.store.db.selectFrom('slack_messages').selectAll().where('request_id', '=', requestId).orderBy('created_at').execute();
  if (messages.length === 0) return;
  const message = await render(ctx, app, row);
  // One message Slack refuses must not keep the others (the approvers' DMs) showing live buttons:
  // the rest are updated first, and the refusal then fails the attempt so it is tried again.
  let refused: unknown = null;
  for (const posted of messages) {
    try {
      await app.client.chat.update({ channel: posted.channel_id, ts: posted.ts, text: message.text, blocks: message.blocks });
    } catch (error) {
      const code = platformErrorOf(error);
      if (code !== null && NOT_UPDATABLE.has(code)) {
        ctx.log.info({ request: requestId, channel: posted.channel_id, slack: code }, 'Slack message no longer updatable; forgetting it');
        await ctx.store.db.deleteFrom('slack_messages').where('request_id', '=', requestId).where('channel_id', '=', posted.channel_id).execute();
        continue;
      }
      // Rate limited, unreachable, or answering HTTP errors: the next message would fare no better.
      if (code === null) throw error;
      refused ??= error;
    }
  }
  if (refused !== null) throw refused;
}

/**
 * What chat.update answers for a message that can never be updated again: deleted, in a channel
 * archived or left, too old to edit, or a DM with a deactivated user. Such a message is forgotten.
 */
const NOT_UPDATABLE: ReadonlySet<string> = new Set(['message_not_found', 'channel_not_found', 'cant_update_message', 'edit_window_closed', 'is_archived', 'not_in_channel', 'account_inactive', 'is_inactive']);
