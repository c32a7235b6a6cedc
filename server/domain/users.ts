import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GreenlightError, newUserSchema, parseOrThrow, type CreatedUser, type User } from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { userStore, type UserRecord } from '../store/users.js';
import { audit, inTransaction, type Context } from './context.js';
import { isAdmin, SYSTEM_ACTOR_NAME, type Actor } from './actor.js';
import { firstTokenRecord, generateToken, hashToken, looksLikeToken } from './tokens.js';
import { tokenStore } from '../store/tokens.js';
import { resolveToken } from '../identity/authenticate.js';

export function toUser(record: UserRecord, groups: string[]): User {
  return {
    id: record.id,
    name: record.name,
    roles: record.roles,
    groups,
    email: record.email,
    slackUserId: record.slackUserId,
    service: record.service,
    status: record.disabled ? 'disabled' : 'active',
    disabled: record.disabled,
    lastSeenAt: record.lastSeenAt,
    createdAt: record.createdAt,
  };
}

export function requireAdmin(actor: Actor): void {
  if (!isAdmin(actor)) throw new GreenlightError('FORBIDDEN', 'Only an admin can do this.');
}

/**
 * Creates a user with a fresh token (a service user gets none: its tokens are made by name, with
 * scopes and an expiry). `by` is null when the hub itself bootstraps the admin.
 */
export async function createUser(ctx: Context, by: Actor | null, input: unknown, presetToken?: string): Promise<CreatedUser> {
  if (by) requireAdmin(by);
  const parsed = parseOrThrow(newUserSchema, input, 'user');
  const token = parsed.service ? null : (presetToken ?? generateToken());
  const now = ctx.clock.now().toISOString();
  const id = newId('usr', ctx.clock.now());
  const roles = [...new Set(parsed.roles)];
  const groups = [...new Set(parsed.groups)];
  await inTransaction(ctx, async (trx) => {
    const existing = await userStore.nameLike(trx, parsed.name);
    if (existing === parsed.name) throw new GreenlightError('CONFLICT', `A user named "${parsed.name}" already exists.`);
    // "Alice" beside "alice" would read as one person in the audit log and in every decision.
    if (existing) throw new GreenlightError('CONFLICT', `A user named "${existing}" already exists; names must differ by more than case. Choose another name for this one.`);
    const email = parsed.email ?? null;
    const slackUserId = parsed.slackUserId ?? null;
    if (slackUserId) await refuseTakenSlackId(trx, slackUserId, null);
    await userStore.insert(trx, { id, name: parsed.name, roles, createdAt: now, email, slackUserId, service: parsed.service });
    if (groups.length) await trx.insertInto('user_groups').values(groups.map((group_name) => ({ user_id: id, group_name }))).execute();
    if (token) await tokenStore.insert(trx, firstTokenRecord(token, id, ctx.clock.now()));
    const data = {
      user: parsed.name,
      roles,
      groups,
      ...(parsed.email ? { email: parsed.email } : {}),
      ...(parsed.slackUserId ? { slackUserId: parsed.slackUserId } : {}),
      ...(parsed.service ? { service: true } : {}),
    };
    await audit(ctx, trx, { actor: by?.name ?? SYSTEM_ACTOR_NAME, type: 'user.created', outcome: 'created', data });
  });
  return { id, name: parsed.name, roles, groups, email: parsed.email ?? null, slackUserId: parsed.slackUserId ?? null, service: parsed.service, status: 'active', disabled: false, lastSeenAt: null, createdAt: now, token };
}

/** One Slack member acts as one Greenlight user: a second user with the same id would make clicks ambiguous. */
export async function refuseTakenSlackId(trx: Transaction<Database>, slackUserId: string, exceptUserId: string | null): Promise<void> {
  const holder = await trx.selectFrom('users').select(['id', 'name']).where('slack_user_id', '=', slackUserId).executeTakeFirst();
  if (holder && holder.id !== exceptUserId) throw new GreenlightError('CONFLICT', `The Slack member ${slackUserId} already belongs to ${holder.name}; remove it there first.`);
}

/** The actor behind a token, or null however it was refused (see `resolveToken` for why). */
export async function authenticate(ctx: Context, token: string, tokenHash = hashToken(token)): Promise<Actor | null> {
  const outcome = await resolveToken(ctx, token, tokenHash);
  return 'actor' in outcome ? outcome.actor : null;
}

export async function recordFailedAuthentication(ctx: Context, where: string, reason: string, details: Record<string, string> = {}): Promise<void> {
  await inTransaction(ctx, (trx) => audit(ctx, trx, { actor: 'anonymous', type: 'auth.failed', outcome: 'refused', data: { where, reason, ...details } }));
}

export async function listUsers(ctx: Context, by: Actor): Promise<User[]> {
  requireAdmin(by);
  const users = await userStore.all(ctx.store.db);
  const memberships = await userStore.memberships(ctx.store.db);
  return users.map((user) => toUser(user, memberships.filter((m) => m.userId === user.id).map((m) => m.group)));
}

/**
 * First start: an admin named `admin`. With GREENLIGHT_ADMIN_TOKEN set that token is used;
 * otherwise one is generated, printed once and written to <data-dir>/admin-token (0600).
 */
export async function bootstrapAdmin(ctx: Context, options: { envToken?: string; dataDir?: string; print: (line: string) => void }): Promise<void> {
  const existing = await ctx.store.db.selectFrom('users').select('id').where('name', '=', 'admin').executeTakeFirst();
  if (existing) return;
  if (options.envToken !== undefined && !looksLikeToken(options.envToken)) {
    throw new GreenlightError('INVALID_INPUT', 'GREENLIGHT_ADMIN_TOKEN must start with "glt_" and be at least 20 characters long.');
  }
  let user: CreatedUser;
  try {
    user = await createUser(ctx, null, { name: 'admin', roles: ['admin', 'approver'], groups: ['admins'] }, options.envToken);
    if (!user.token) throw new Error('the admin was created without a token');
  } catch (error) {
    // Another hub on the same database got there first.
    if (error instanceof GreenlightError && error.code === 'CONFLICT') return;
    throw error;
  }
  if (options.envToken) return;
  if (options.dataDir) {
    const file = path.join(options.dataDir, 'admin-token');
    writeFileSync(file, `${user.token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    options.print(`Created admin user "admin". Token (shown once, also saved to ${file}): ${user.token}`);
  } else {
    options.print(`Created admin user "admin". Token (shown once): ${user.token}`);
  }
}

export function readAdminTokenFile(dataDir: string): string | null {
  const file = path.join(dataDir, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}
