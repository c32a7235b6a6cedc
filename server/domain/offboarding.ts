import type { Transaction } from 'kysely';
import { decidesAnything, type Role } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { requestStore, type RequestRecord } from '../store/requests.js';
import { decisionStore } from '../store/decisions.js';
import { userStore } from '../store/users.js';
import { audit, type Context } from './context.js';
import { endDelegationsOfNonDecider } from './delegations.js';
import { revokeGrantsOf } from './grants.js';
import { announceChanged, changedRequest, onceEach, type ChangedRequest } from './lifecycle/after-commit.js';
import { transition } from './lifecycle/transition.js';
import { endClaim } from './lifecycle/claims.js';
import { delegatesOf, releaseUnbackedClaims } from './lifecycle/unbacked-claims.js';
import { expireRequest } from './lifecycle/expiry.js';
import { SYSTEM_ACTOR_NAME } from './actor.js';
import { currentTally, voteLines } from './quorum.js';
import { isEligibleApprover } from './request-view.js';

export interface Offboarded {
  userId: string;
  /** Requests the disable changed (ended, released, votes withdrawn, grants revoked), to announce once committed. */
  changed: ChangedRequest[];
}

/**
 * Disables a user, by an admin or by the identity provider, inside the caller's transaction. A
 * disabled user keeps no access and leaves no weight behind: their delegations end, their requests
 * still waiting are cancelled, their claims released, their approvals of requests still waiting
 * withdrawn, and their grants still active (started or scheduled) revoked, each audited with why.
 * Enabling them again brings none of it back; they ask, or approve, anew.
 */
export async function disableIn(ctx: Context, trx: Transaction<Database>, user: { id: string; name: string; roles: Role[] }, by: string, data: Record<string, unknown> = {}): Promise<Offboarded> {
  await userStore.update(trx, user.id, { disabled: true });
  await audit(ctx, trx, { actor: by, type: 'user.disabled', outcome: 'disabled', data: { user: user.name, ...data } });
  const delegates = await delegatesOf(trx, user.id, ctx.clock.now());
  await endDelegationsOfNonDecider(ctx, trx, { ...user, disabled: true }, by);
  const why = `${user.name} was disabled`;
  const changed: ChangedRequest[] = [];
  const now = ctx.clock.now().toISOString();
  // One already past its expiry ends as it would have at the hub's next look: expired, not changed.
  const expiredIfOverdue = async (request: RequestRecord): Promise<boolean> => {
    if (!(request.status === 'pending' && request.expires_at !== null && request.expires_at <= now)) return false;
    await expireRequest(ctx, trx, request);
    return true;
  };
  for (const request of await requestStore.pendingOf(trx, user.id)) {
    changed.push(changedRequest(request.id));
    if (await expiredIfOverdue(request)) continue;
    await transition(ctx, trx, request, 'cancel', { actor: by, data: { reason: why, ...(by === SYSTEM_ACTOR_NAME ? {} : { byAdmin: true }) } });
  }
  // A claim they held would keep holding escalation back, and others from claiming, until it lapsed.
  for (const request of await requestStore.pendingClaimedBy(trx, user.name)) {
    changed.push(changedRequest(request.id));
    if (await expiredIfOverdue(request)) continue;
    await endClaim(ctx, trx, request, by, why);
  }
  // Approvals they gave, or cast as a delegate, on requests still waiting no longer count: whoever
  // disabled them may have had reason to distrust them, and policy asks for approvers who can decide.
  for (const requestId of await decisionStore.pendingApprovedBy(trx, user.id)) {
    changed.push(changedRequest(requestId));
    const request = await requestStore.existing(trx, requestId);
    if (await expiredIfOverdue(request)) continue;
    await withdrawApprovalsOf(ctx, trx, request, user.id, 'both', by, why);
  }
  // A delegate's claim made for them backs nobody's decision now.
  for (const delegate of delegates) changed.push(...(await releaseUnbackedClaims(ctx, trx, delegate, by, `${why}: ${delegate} can no longer decide it for ${user.name}`)));
  changed.push(...(await revokeGrantsOf(ctx, trx, user.id, by, why)).map((id) => changedRequest(id)));
  return { userId: user.id, changed: onceEach(changed) };
}

/** Takes back a person's approvals of a waiting request, recorded as a vote records it, so the history shows where the quorum stands without them. */
async function withdrawApprovalsOf(ctx: Context, trx: Transaction<Database>, request: RequestRecord, personId: string, which: 'own' | 'cast' | 'both', by: string, why: string): Promise<void> {
  const withdrawn = await decisionStore.withdrawApprovals(trx, request.id, personId, which);
  if (withdrawn.length === 0) return;
  const approvals = withdrawn.map((vote) => vote.approverName);
  // Whose approvals they were stays a list of names; who cast those a delegate cast goes beside it.
  const cast = withdrawn.filter((vote) => vote.delegateName !== null).map((vote) => [vote.approverName, vote.delegateName]);
  const castBy = cast.length ? { castBy: Object.fromEntries(cast) as Record<string, string> } : {};
  const { approvals: remaining, of, lines } = await currentTally(trx, request.rule, request.id);
  await transition(ctx, trx, request, 'withdrawVote', { actor: by, outcome: 'withdrawn', data: { reason: why, approvals, ...castBy, remaining, of, ...(lines ? { lines } : {}) } });
}

/**
 * Inside the caller's transaction, after a person's roles or groups changed (by an admin, or at a
 * sign-in through the identity provider): what they could no longer do leaves no weight behind, as
 * on a disable. Their delegations end once they decide nothing; their approvals of requests still
 * waiting are taken back where they could not give them now (out of every group the request asks,
 * or out of the quorum line the vote fills), and those they cast as a delegate once they decide
 * nothing. Returns the requests changed, to announce once committed.
 */
export async function withdrawWhatAccessNoLongerAllows(ctx: Context, trx: Transaction<Database>, person: { id: string; name: string; roles: Role[]; groups: string[] }, by: string): Promise<ChangedRequest[]> {
  const delegates = await delegatesOf(trx, person.id, ctx.clock.now());
  await endDelegationsOfNonDecider(ctx, trx, { ...person, disabled: false }, by);
  const why = `${person.name}'s roles or groups changed: they can no longer give this approval`;
  const changed: ChangedRequest[] = [];
  for (const requestId of await decisionStore.pendingApprovedBy(trx, person.id)) {
    const request = await requestStore.existing(trx, requestId);
    const votes = await decisionStore.approvalsInvolving(trx, requestId, person.id);
    const ownVote = votes.find((vote) => vote.approverId === person.id);
    // Under `require:` a vote may fill any of the lines it lists: it keeps those its approver is still in.
    const allowedLines = voteLines(request.rule, request, person);
    const keptLines = ownVote?.lines && allowedLines ? ownVote.lines.filter((line) => allowedLines.includes(line)) : null;
    const ownLost = ownVote !== undefined && (!isEligibleApprover(request, person) || keptLines?.length === 0);
    const castLost = !decidesAnything(person.roles) && votes.some((vote) => vote.delegateId === person.id && vote.approverId !== person.id);
    if (!ownLost && ownVote?.lines && keptLines && keptLines.length < ownVote.lines.length) {
      await decisionStore.setLines(trx, requestId, person.id, keptLines);
      // Where the quorum stands may move (two votes now compete for one line): the history says why.
      const { approvals: remaining, of, lines } = await currentTally(trx, request.rule, requestId);
      await transition(ctx, trx, request, 'narrowVote', { actor: by, outcome: 'narrowed', data: { reason: `${person.name}'s groups changed`, approver: person.name, lines: keptLines, remaining, of, ...(lines ? { progress: lines } : {}) } });
      changed.push(changedRequest(requestId));
      continue;
    }
    if (!ownLost && !castLost) continue;
    changed.push(changedRequest(requestId));
    await withdrawApprovalsOf(ctx, trx, request, person.id, ownLost && castLost ? 'both' : ownLost ? 'own' : 'cast', by, why);
  }
  // A claim they, or a delegate for them, can no longer back with a decision would hold escalation back, and others from claiming.
  const changedAccess = `${person.name}'s roles or groups changed`;
  changed.push(...(await releaseUnbackedClaims(ctx, trx, person.name, by, `${changedAccess}: they can no longer decide it`)));
  for (const delegate of delegates) changed.push(...(await releaseUnbackedClaims(ctx, trx, delegate, by, `${changedAccess}: ${delegate} can no longer decide it for ${person.name}`)));
  return onceEach(changed);
}

/**
 * After commit: the user's cached identity and sockets go, everyone concerned sees the requests that
 * changed, and the delegate index forgets their delegations. Nothing here can undo the commit, so
 * what fails is logged and the rest still runs.
 */
export async function announceDisabled(ctx: Context, offboarded: Offboarded): Promise<void> {
  ctx.actors?.forgetUser(offboarded.userId);
  ctx.bus.emit({ type: 'user.disabled', userId: offboarded.userId });
  await announceChanged(ctx, offboarded.changed);
  await refreshDelegates(ctx);
}

/**
 * Pushes to delegates follow a change of delegations at once, on this hub and (told through the
 * bus) on the others; the periodic refresh catches up if this fails.
 */
export async function refreshDelegates(ctx: Context): Promise<void> {
  await ctx.delegates?.refresh().catch((error: unknown) => ctx.log.warn({ err: error }, 'could not refresh delegations; the next periodic refresh will'));
  ctx.bus.emit({ type: 'delegations.changed' });
}
