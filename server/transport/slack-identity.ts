import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import type { SlackApp } from '../notify/slack/app.js';
import { userStore, type UserRecord } from '../store/users.js';
import { actorWithoutToken } from '../identity/link-actor.js';

/** `matchedBy`: how the click was tied to the user, kept in the decision's audit event with the Slack id. */
export type SlackIdentity = { kind: 'user'; actor: Actor; matchedBy: 'link' | 'email' } | { kind: 'refused'; explanation: string };

/** Only an address Slack confirmed, on a live human account, says who clicked. */
async function byEmail(ctx: Context, app: SlackApp, slackUserId: string): Promise<UserRecord | undefined> {
  try {
    const info = await app.client.users.info({ user: slackUserId });
    const account = info.user;
    if (!account || account.deleted || account.is_bot || account.is_email_confirmed !== true) return undefined;
    const email = account.profile?.email?.trim().toLowerCase();
    if (!email) return undefined;
    return await userStore.byEmail(ctx.store.db, email);
  } catch (error) {
    ctx.log.warn({ err: error, slackUser: slackUserId }, 'cannot look up a Slack user by email');
    return undefined;
  }
}

/**
 * The Greenlight user behind a Slack click: the one whose `slackUserId` it is, or (only with
 * `matchByEmail: true`) the one with the Slack profile's confirmed email, unless an admin linked
 * that user to another Slack account. Unknown, disabled and ambiguous users get an explanation instead.
 */
export async function slackIdentity(ctx: Context, app: SlackApp, slackUserId: string): Promise<SlackIdentity> {
  const holders = await userStore.holdersOfSlackUserId(ctx.store.db, slackUserId);
  // The unique index forbids this; a database edited by hand could still hold it. Picking one would
  // let a click decide as someone who may not have made it.
  if (holders.length > 1) {
    ctx.log.warn({ slackUser: slackUserId, users: holders.map((holder) => holder.name) }, 'a Slack member is linked to more than one user; its clicks are refused');
    return {
      kind: 'refused',
      explanation: `Your Slack account is linked to more than one Greenlight user (${holders.map((holder) => holder.name).join(', ')}), so this click did nothing: it cannot say which of them decided. Ask a Greenlight admin to keep the link on one of them.`,
    };
  }
  let user = holders[0];
  const matchedBy = user ? 'link' : 'email';
  if (!user && app.matchByEmail) {
    user = await byEmail(ctx, app, slackUserId);
    // An admin linked that person to another Slack account: an email alike does not make this one theirs.
    if (user?.slackUserId && user.slackUserId !== slackUserId) {
      return { kind: 'refused', explanation: `Your Slack profile's email is ${user.name}'s, but ${user.name} is linked to another Slack account, so this click did nothing. Ask a Greenlight admin.` };
    }
  }
  if (!user) {
    return {
      kind: 'refused',
      explanation: `Your Slack account is not linked to a Greenlight user, so this click did nothing. Ask a Greenlight admin to run \`greenlight user set <your name> --slack-user ${slackUserId}\`.`,
    };
  }
  if (user.disabled) return { kind: 'refused', explanation: `Your Greenlight user ${user.name} is disabled, so this click did nothing.` };
  return { kind: 'user', actor: actorWithoutToken(user, await userStore.groupsOf(ctx.store.db, user.id)), matchedBy };
}
