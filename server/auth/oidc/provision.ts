import { z } from 'zod';
import { emailSchema, GreenlightError, groupNameSchema, reservedNameProblem, userNameSchema, type Role } from '../../../protocol/index.js';
import { audit, inTransaction, type Context } from '../../domain/context.js';
import { announceDisabled, disableIn, refreshDelegates, withdrawWhatAccessNoLongerAllows, type Offboarded } from '../../domain/offboarding.js';
import { announceChanged, type ChangedRequest } from '../../domain/lifecycle/after-commit.js';
import { newId } from '../../ids.js';
import type { OidcSettings } from './config.js';
import { decodeRoles, userStore } from '../../store/users.js';
import { isLastActiveAdmin } from '../../domain/user-admin.js';

/** Who the identity provider says signed in, checked before anything is written. */
export interface SignedInIdentity {
  subject: string;
  username: string;
  email: string | null;
  idpGroups: string[];
}

/** Reads the configured claims; a missing or unusable one is refused in words an operator can act on. */
export function identityFromClaims(claims: Record<string, unknown>, settings: OidcSettings): SignedInIdentity {
  const subject = z.string().min(1).max(255).safeParse(claims.sub);
  if (!subject.success) throw new GreenlightError('INVALID_INPUT', 'The identity provider sent an ID token without a subject (sub).');
  const username = userNameSchema.safeParse(claims[settings.usernameClaim]);
  if (!username.success) {
    throw new GreenlightError('INVALID_INPUT', `The identity provider's "${settings.usernameClaim}" claim is missing or not a usable user name (letters, digits and . _ @ -). Map it in the provider, or set oidc.usernameClaim.`);
  }
  const email = emailSchema.safeParse(claims[settings.emailClaim]);
  const rawGroups: unknown = claims[settings.groupsClaim];
  const idpGroups = Array.isArray(rawGroups) ? rawGroups.filter((group): group is string => typeof group === 'string') : [];
  return { subject: subject.data, username: username.data, email: email.success ? email.data : null, idpGroups };
}

/** The groups the policy names (approvers and escalation targets). */
function policyGroups(ctx: Context): Set<string> {
  return new Set(ctx.policy.current().rules.flatMap((rule) => [...rule.approvers, ...rule.escalation.flatMap((step) => step.notify)]));
}

/** Roles and groups an identity gets: roles by `roleMapping`, groups only those the config maps or the policy names. */
export function accessFor(identity: SignedInIdentity, settings: OidcSettings, namedByPolicy: Set<string>): { roles: Role[]; groups: string[]; allowed: boolean } {
  const mapping = settings.roleMapping;
  const has = (groups: readonly string[] | undefined) => (groups ?? []).some((group) => identity.idpGroups.includes(group));
  const roles: Role[] = ['requester'];
  if (has(mapping.approver)) roles.push('approver');
  if (has(mapping.lead)) roles.push('lead');
  if (has(mapping.admin)) roles.push('admin');
  const known = new Set([...(mapping.admin ?? []), ...(mapping.lead ?? []), ...(mapping.approver ?? []), ...(settings.allowedGroups ?? []), ...namedByPolicy]);
  const groups = [...new Set(identity.idpGroups.filter((group) => known.has(group) && groupNameSchema.safeParse(group).success))].sort();
  const allowed = settings.allowedGroups === undefined || has(settings.allowedGroups);
  return { roles, groups, allowed };
}

export type Provisioned = { userId: string; name: string } | { refused: string };

/**
 * Creates or updates the user from what the provider said, in one transaction with its audit event.
 * Someone whose groups no longer qualify is disabled (their sockets close) and refused, naming why.
 */
export async function provisionUser(ctx: Context, settings: OidcSettings, identity: SignedInIdentity): Promise<Provisioned> {
  const access = accessFor(identity, settings, policyGroups(ctx));
  const now = ctx.clock.now().toISOString();
  type Outcome = { refused: string; disabled?: Offboarded } | { userId: string; name: string; changed: boolean; withdrawn?: ChangedRequest[] };
  const outcome = await inTransaction(ctx, async (trx): Promise<Outcome> => {
    const bySubject = await trx.selectFrom('users').selectAll().where('oidc_subject', '=', identity.subject).executeTakeFirst();
    // A user made by hand before single sign-on, with the same name, is taken over once: their tokens keep working.
    const byName = bySubject ?? (await trx.selectFrom('users').selectAll().where('name', '=', identity.username).where('oidc_subject', 'is', null).executeTakeFirst());
    const groupsText = (settings.allowedGroups ?? []).join(', ');
    if (!access.allowed) {
      // Only an account this identity already signed in to is disabled: a hand-made or service user
      // who merely shares the name is not the provider's to take away.
      if (bySubject && bySubject.disabled === 0 && bySubject.service === 0 && !(await isLastActiveAdmin(ctx, trx, bySubject.id))) {
        const disabled = await disableIn(ctx, trx, { id: bySubject.id, name: bySubject.name, roles: decodeRoles(bySubject.roles) }, 'greenlight', { reason: `signed in without any of the allowed groups (${groupsText})`, idpGroups: identity.idpGroups });
        return { refused: `You are not in any group allowed to use Greenlight (${groupsText}); your account here has been disabled. Ask your identity provider's admin to add you to one of them.`, disabled };
      }
      await audit(ctx, trx, { actor: 'anonymous', type: 'auth.failed', outcome: 'refused', data: { where: 'oidc sign-in', reason: `${identity.username} is in none of the allowed groups`, idpGroups: identity.idpGroups } });
      return { refused: `You are not in any group allowed to use Greenlight (${groupsText}). Ask your identity provider's admin to add you to one of them.` };
    }
    if (byName?.disabled === 1) return { refused: `Your Greenlight account (${byName.name}) is disabled. Ask a Greenlight admin to enable it.` };
    // Sharing a name with a hand-made admin proves nothing: only someone the provider makes an admin takes that account over.
    if (byName && !bySubject && decodeRoles(byName.roles).includes('admin') && !access.roles.includes('admin')) {
      await audit(ctx, trx, { actor: 'anonymous', type: 'auth.failed', outcome: 'refused', data: { where: 'oidc sign-in', reason: `${identity.username} is not mapped to admin, and the account of that name here is an admin made by hand` } });
      return {
        refused: `The account ${byName.name} here is an admin made by hand; single sign-on takes it over only for someone your identity provider maps to admin (oidc.roleMapping.admin). Ask a Greenlight admin.`,
      };
    }
    if (byName?.service === 1) return { refused: `${byName.name} is a service user: it signs in with tokens only.` };
    if (!byName) {
      // Only a new account is held to it: one already linked keeps signing in under its name.
      const reserved = reservedNameProblem(identity.username);
      if (reserved) {
        return { refused: `Your identity provider's user name cannot be a Greenlight user name: ${reserved}. Ask its admin to map another claim (oidc.usernameClaim), or to rename the account.` };
      }
      const taken = await userStore.nameLike(trx, identity.username);
      if (taken) return { refused: `The name ${identity.username} already belongs to another account (${taken}) here, whatever its case. Ask a Greenlight admin.` };
      const id = newId('usr', ctx.clock.now());
      await trx.insertInto('users').values({ id, name: identity.username, roles: JSON.stringify(access.roles), disabled: 0, created_at: now, email: identity.email, service: 0, oidc_subject: identity.subject }).execute();
      if (access.groups.length) await trx.insertInto('user_groups').values(access.groups.map((group_name) => ({ user_id: id, group_name }))).execute();
      await audit(ctx, trx, { actor: 'greenlight', type: 'user.created', outcome: 'created', data: { user: identity.username, roles: access.roles, groups: access.groups, source: 'oidc', oidcSubject: identity.subject, ...(identity.email ? { email: identity.email } : {}) } });
      return { userId: id, name: identity.username, changed: false };
    }
    // The provider's word on roles stands, except where it would leave nobody able to manage users.
    const keepsAdmin = !access.roles.includes('admin') && (await isLastActiveAdmin(ctx, trx, byName.id));
    if (keepsAdmin) {
      access.roles.push('admin');
      await audit(ctx, trx, { actor: 'greenlight', type: 'user.updated', outcome: 'kept', data: { user: byName.name, reason: 'the identity provider no longer maps them to admin, but they are the last active admin: make someone else an admin, then they lose it at their next sign-in', source: 'oidc' } });
    }
    const before = { roles: decodeRoles(byName.roles), groups: (await trx.selectFrom('user_groups').select('group_name').where('user_id', '=', byName.id).execute()).map((g) => g.group_name).sort(), email: byName.email };
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (JSON.stringify([...before.roles].sort()) !== JSON.stringify([...access.roles].sort())) changes.roles = { from: before.roles, to: access.roles };
    if (JSON.stringify(before.groups) !== JSON.stringify(access.groups)) changes.groups = { from: before.groups, to: access.groups };
    if ((before.email ?? null) !== identity.email && identity.email !== null) changes.email = { from: before.email, to: identity.email };
    // A sign-in finds its user by subject: linking one (a takeover of a hand-made user) is recorded, so audit verify can tell a subject set by hand.
    if (byName.oidc_subject !== identity.subject) changes.oidcSubject = { from: byName.oidc_subject, to: identity.subject };
    await trx
      .updateTable('users')
      .set({ roles: JSON.stringify(access.roles), email: identity.email ?? byName.email, oidc_subject: identity.subject })
      .where('id', '=', byName.id)
      .execute();
    if (changes.groups) {
      await trx.deleteFrom('user_groups').where('user_id', '=', byName.id).execute();
      if (access.groups.length) await trx.insertInto('user_groups').values(access.groups.map((group_name) => ({ user_id: byName.id, group_name }))).execute();
    }
    if (Object.keys(changes).length) await audit(ctx, trx, { actor: 'greenlight', type: 'user.updated', outcome: 'updated', data: { user: byName.name, changes, source: 'oidc' } });
    const withdrawn = changes.roles || changes.groups ? await withdrawWhatAccessNoLongerAllows(ctx, trx, { id: byName.id, name: byName.name, roles: access.roles, groups: access.groups }, 'greenlight') : [];
    return { userId: byName.id, name: byName.name, changed: Boolean(changes.roles || changes.groups), withdrawn };
  });
  if ('refused' in outcome) {
    if (outcome.disabled) await announceDisabled(ctx, outcome.disabled);
    return { refused: outcome.refused };
  }
  if (outcome.changed) {
    ctx.actors?.forgetUser(outcome.userId);
    ctx.bus.emit({ type: 'user.changed', userId: outcome.userId });
    await refreshDelegates(ctx);
    await announceChanged(ctx, outcome.withdrawn ?? []);
  }
  return { userId: outcome.userId, name: outcome.name };
}
