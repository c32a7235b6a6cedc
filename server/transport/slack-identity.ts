import type { Role } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import type { SlackApp } from '../notify/slack/app.js';
import type { UsersTable } from '../store/schema.js';

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
  const groups = await ctx.store.db.selectFrom('user_groups').select('group_name').where('user_id', '=', user.id).execute();
  return { kind: 'user', actor: { id: user.id, name: user.name, roles: JSON.parse(user.roles) as Role[], groups: groups.map((g) => g.group_name), email: user.email } };
}
