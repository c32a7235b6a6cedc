import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import type { SlackApp } from '../notify/slack/app.js';
import type { UsersTable } from '../store/schema.js';
import { toUserRecord, userStore } from '../store/users.js';
import { actorWithoutToken } from '../identity/link-actor.js';

export type SlackIdentity = { kind: 'user'; actor: Actor } | { kind: 'refused'; explanation: string };

async function byEmail(ctx: Context, app: SlackApp, slackUserId: string): Promise<UsersTable | undefined> {
  try {
    const info = await app.client.users.info({ user: slackUserId });
    const email = info.user?.profile?.email?.trim().toLowerCase();
    if (!email) return undefined;
    const matches = await ctx.store.db.selectFrom('users').selectAll().where('email', 'is not', null).execute();
    const found = matches.filter((user) => user.email?.toLowerCase() === email);
    // Two users with one address: clicks would be ambiguous, so neither is matched.
    return found.length === 1 ? found[0] : undefined;
  } catch (error) {
    ctx.log.warn({ err: error, slackUser: slackUserId }, 'cannot look up a Slack user by email');
    return undefined;
  }
}

/**
 * The Greenlight user behind a Slack click: the one whose `slackUserId` it is, or (only with
 * `matchByEmail: true`) the one with the Slack profile's email. Unknown and disabled users get an
 * explanation instead.
 */
export async function slackIdentity(ctx: Context, app: SlackApp, slackUserId: string): Promise<SlackIdentity> {
  let user = await ctx.store.db.selectFrom('users').selectAll().where('slack_user_id', '=', slackUserId).executeTakeFirst();
  if (!user && app.matchByEmail) user = await byEmail(ctx, app, slackUserId);
  if (!user) {
    return {
      kind: 'refused',
      explanation: `Your Slack account is not linked to a Greenlight user, so this click did nothing. Ask a Greenlight admin to run \`greenlight user set <your name> --slack-user ${slackUserId}\`.`,
    };
  }
  if (user.disabled === 1) return { kind: 'refused', explanation: `Your Greenlight user ${user.name} is disabled, so this click did nothing.` };
  return { kind: 'user', actor: actorWithoutToken(toUserRecord(user), await userStore.groupsOf(ctx.store.db, user.id)) };
}
