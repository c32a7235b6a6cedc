import type { Kysely } from 'kysely';
import {
  compareUrgency,
  cancelInputSchema,
  decisionInputSchema,
  GreenlightError,
  parseOrThrow,
  type GreenlightRequest,
  type SyncResult,
  waitsOnMe,
} from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { requestStore, type EligibleName, type RequestRecord } from '../store/requests.js';
import { decisionStore } from '../store/decisions.js';
import { breakGlassReviewStore } from '../store/break-glass-reviews.js';
import type { Context } from './context.js';
import { actsAsAdmin, type Actor } from './actor.js';
import type { TurnTaker } from './turns.js';
import { policyOffers } from './policy.js';
import { buildView, buildViews, buildViewsCached, canSee, isEligibleApprover, type RequestRef, viewReader } from './request-view.js';
import { issueGrant } from './grants.js';
import { announce } from './announce.js';
import { loadRequestRow, onUnexpiredRequest } from './lifecycle/expiry.js';
import { transition } from './lifecycle/transition.js';
import { endClaim } from './lifecycle/claims.js';
import { checkStart, outsideWindow, plannedAccess } from './time/schedule.js';
import { tallyApproval, voteLines } from './quorum.js';
import { readBackRefusal } from './read-back.js';
import { viewerOf } from './capacities.js';
import { activeDelegatorsOf, standsInOn, type Delegator } from './deciders.js';
import { onAdmittedVote } from './vote-admission.js';

/** Where a decision was made; the audit event records it. */
export type DecisionChannel = 'app' | 'api' | 'email' | 'slack';
/** What a decision from chat on a rule with `chatApprove: false` is told, once the voter is let in. */
export const CHAT_DECISIONS_OFF = 'This rule asks for decisions in Greenlight itself: use "Open in Greenlight".';

/** Who the channel says clicked (a Slack member id and how it was tied to the user): recorded with the decision. */
export type ChannelIdentity = Record<string, string>;

export async function decideRequest(ctx: Context, actor: Actor, requestId: string, input: unknown, via: DecisionChannel = 'api', channelIdentity: ChannelIdentity = {}): Promise<GreenlightRequest> {
  const decision = parseOrThrow(decisionInputSchema, input, 'decision');
  // Delegations are read when the decision is made, never trusted from when a notification went out.
  const delegators = await activeDelegatorsOf(ctx.store.db, actor, ctx.clock.now());
  const row = await onAdmittedVote(ctx, actor, requestId, delegators, decision.onBehalfOf, async (trx, current, { caller, standIn }) => {
    const rule = current.rule;
    // After admission: someone who could not vote here anyway learns nothing of how the rule is set.
    if (via === 'slack' && rule.chatApprove === false) throw new GreenlightError('FORBIDDEN', CHAT_DECISIONS_OFF);
    const voter = standIn ?? caller;
    const now = ctx.clock.now();
    const iso = now.toISOString();
    const start = decision.decision === 'approve' ? startChange(ctx, current, decision.notBefore, now) : null;
    const lines = voteLines(rule, current, voter);
    const approving = decision.decision === 'approve';
    // Counted before the vote is written: a vote that fills no open line is refused, not recorded.
    const tally = approving ? await tallyApproval(trx, rule, current.id, { approver: voter.name, lines: lines ?? [] }) : null;
    await decisionStore.insert(trx, {
      requestId: current.id,
      approverId: voter.id,
      approverName: voter.name,
      decision: decision.decision,
      comment: decision.comment ?? null,
      createdAt: iso,
      lines,
      delegateId: standIn ? actor.id : null,
      delegateName: standIn ? actor.name : null,
    });
    const comment = decision.comment ?? null;
    const behalf = standIn ? { onBehalfOf: standIn.name } : {};
    if (!tally) return (await transition(ctx, trx, current, 'deny', { actor: actor.name, decidedFor: standIn?.name, data: { comment, via, ...channelIdentity, ...behalf } })).row;
    const changes = start ? { not_before: start.to } : {};
    const startData = start ? { startChanged: start } : {};
    const counted = { comment, approvals: tally.approvals, of: tally.of, via, ...channelIdentity, ...(tally.progress ? { lines: tally.progress } : {}), ...behalf, ...startData };
    if (!tally.met) {
      const voted = (await transition(ctx, trx, current, 'vote', { actor: actor.name, outcome: 'approve', changes, data: counted })).row;
      // Having voted, they can add nothing more: their claim would hold escalation back for no one.
      return current.claim_by === actor.name ? endClaim(ctx, trx, voted, actor.name, `${actor.name} voted`) : voted;
    }
    const { row: next } = await transition(ctx, trx, current, 'approve', { actor: actor.name, decidedFor: standIn?.name, changes, data: counted });
    const obo = await decisionStore.approvalsOnBehalf(trx, current.id);
    const grant = await issueGrant(ctx, trx, next, now, { obo: obo.map((d) => ({ by: d.delegateName, for: d.approverName })) });
    ctx.deadlineWritten(grant.expiresAt);
    return next;
  });
  return announce(ctx, row, actor);
}

/**
 * An approver moving the start on approve: checked like the requester's own, and refused when the
 * moved access would touch none of the rule's windows. Null when the start stays as it is.
 */
function startChange(ctx: Context, current: RequestRecord, notBefore: string | undefined, now: Date): { from: string | null; to: string } | null {
  if (!notBefore || notBefore === current.not_before) return null;
  const rule = current.rule;
  checkStart(rule, notBefore, now, 'decision');
  const access = plannedAccess({ ...current, not_before: notBefore }, rule, now);
  if (!access.ok) throw outsideWindow(rule, access.nextStart);
  return { from: current.not_before, to: notBefore };
}

/**
 * The requester cancels their own pending request; an admin may cancel anyone's, saying why (the
 * requester is told who and why through the request's update and the cancellation notifications).
 */
export async function cancelRequest(ctx: Context, actor: Actor, requestId: string, input: unknown = {}): Promise<GreenlightRequest> {
  const { reason } = parseOrThrow(cancelInputSchema, input ?? {}, 'cancellation');
  const admit = (current: RequestRecord) => {
    if (current.requester_id === actor.id) {
      // A token made only to submit ends only what it submitted itself.
      const unreadable = readBackRefusal(actor, current);
      if (unreadable && !actsAsAdmin(actor)) throw unreadable;
      return;
    }
    // Ending someone else's request is admin work: a token made without the admin scope cannot.
    if (!actsAsAdmin(actor)) throw new GreenlightError('FORBIDDEN', 'Only the requester or an admin (with a token that has the admin scope) can cancel a request.');
    if (!reason) throw new GreenlightError('INVALID_INPUT', `Invalid cancellation: reason: say why you cancel ${current.requester_name}'s request; they are told.`);
  };
  const row = await onUnexpiredRequest(ctx, requestId, 'it can no longer be cancelled.', admit, async (trx, current) => {
    if (current.status !== 'pending') throw new GreenlightError('ALREADY_DECIDED', `This request is already ${current.status}; it can no longer be cancelled.`);
    const byAdmin = current.requester_id !== actor.id;
    return (await transition(ctx, trx, current, 'cancel', { actor: actor.name, data: { ...(reason ? { reason } : {}), ...(byAdmin ? { byAdmin: true } : {}) } })).row;
  });
  return announce(ctx, row, actor);
}

export async function getRequest(ctx: Context, actor: Actor, requestId: string): Promise<GreenlightRequest> {
  const row = await loadRequestRow(ctx.store.db, requestId);
  const unreadable = readBackRefusal(actor, row);
  if (unreadable) throw unreadable;
  const decisions = await decisionStore.votersOf(ctx.store.db, row.id);
  const voters = decisions.flatMap((d) => (d.delegateName ? [d.approverName, d.delegateName] : [d.approverName]));
  const asDelegate = async () => (await activeDelegatorsOf(ctx.store.db, actor, ctx.clock.now())).some((d) => standsInOn(d, row));
  if (!canSee(row, actor, voters) && !(await asDelegate())) throw new GreenlightError('FORBIDDEN', 'You are neither the requester nor an approver of this request.');
  return buildView(viewReader(ctx), row, actor);
}

export interface ListQuery {
  status?: string;
  mine?: boolean;
  limit: number;
  cursor?: string;
}

/** Requests the caller may see, newest first; ids are time-ordered so the last id is the cursor. */
export async function listRequests(ctx: Context, actor: Actor, query: ListQuery): Promise<{ requests: GreenlightRequest[]; nextCursor: string | null }> {
  const who = query.mine ? { requesterId: actor.id } : actsAsAdmin(actor) ? {} : { requesterId: actor.id, orEligible: visibilityFilters(actor) };
  const rows = await requestStore.page(ctx.store.db, { ...(query.status ? { status: query.status } : {}), ...who, ...(query.cursor ? { before: query.cursor } : {}), limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  // The LIKE narrows; who may see a row is decided here (SQLite's LIKE ignores ASCII case, so "SRE" finds "sre").
  const visible = page.filter((row) => canSee(row, actor));
  const requests = await buildViews(viewReader(ctx), visible, actor);
  return { requests, nextCursor: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null };
}

/** The names under which an approver finds the requests they may decide: their groups, and their own name. */
function visibilityFilters(actor: Actor): EligibleName[] {
  if (!actor.roles.some((role) => role !== 'requester')) return [];
  return [...actor.groups.map((group) => ({ in: 'eligible_groups' as const, name: group })), { in: 'eligible_users' as const, name: actor.name }];
}

/** Views built per turn: a hundred take a few milliseconds, so a large inbox never holds the event loop long. */
const VIEWS_PER_TURN = 100;

async function buildViewsInTurns(ctx: Context, turn: TurnTaker, refs: RequestRef[], viewer: Actor): Promise<GreenlightRequest[]> {
  const views: GreenlightRequest[] = [];
  for (let start = 0; start < refs.length; start += VIEWS_PER_TURN) {
    await turn.next();
    views.push(...(await buildViewsCached(viewReader(ctx), ctx.views, refs.slice(start, start + VIEWS_PER_TURN), viewer)));
  }
  return views;
}

/**
 * Break-glass uses still to be reviewed by one of my groups, or by a group of someone I stand in for
 * (never my own). Chosen by group only: "waiting on me" decides what stays.
 */
async function openReviewRefsFor(db: Kysely<Database>, actor: Actor, delegators: Delegator[]): Promise<RequestRef[]> {
  const groups = new Set([...actor.groups, ...delegators.flatMap((d) => d.delegator.groups)]);
  if (groups.size === 0) return [];
  const open = await breakGlassReviewStore.openNotBy(db, actor.id);
  return open.filter((item) => item.reviewers.some((group) => groups.has(group))).map(({ id, version }) => ({ id, version }));
}

/**
 * Everything a (re)connecting client needs: what waits on me, and my own open or recent requests.
 * Requests are chosen from a few narrow columns, then viewed in turns (reusing views already built).
 */
export async function syncFor(ctx: Context, actor: Actor, turn: TurnTaker = ctx.turns.begin()): Promise<SyncResult> {
  const db = ctx.store.db;
  const delegators = await activeDelegatorsOf(db, actor, ctx.clock.now());
  // A delegate's inbox holds what waits on their delegators too (visibility as each of them).
  const filters = [actor, ...delegators.map((d) => d.delegator)].flatMap(visibilityFilters);
  await turn.next();
  const pendingRefs = await requestStore.pendingNaming(db, filters);
  const inboxRefs = [
    ...pendingRefs.filter((row) => isEligibleApprover(row, actor) || delegators.some((d) => isEligibleApprover(row, d.delegator))),
    ...(await openReviewRefsFor(db, actor, delegators)),
  ];
  const recent = new Date(ctx.clock.now().getTime() - 24 * 3600 * 1000).toISOString();
  const mineRefs = await requestStore.openOrRecentOf(db, actor.id, recent, 200);
  const viewer = viewerOf(actor, delegators);
  const inbox = (await buildViewsInTurns(ctx, turn, inboxRefs, actor)).filter((request) => waitsOnMe(request, viewer)).sort(compareUrgency);
  const mine = await buildViewsInTurns(ctx, turn, mineRefs, actor);
  // Syncing is itself an authenticated use, so "last seen" is now.
  const me: SyncResult['me'] = {
    id: actor.id,
    name: actor.name,
    roles: actor.roles,
    groups: actor.groups,
    email: actor.email,
    service: actor.service,
    status: 'active',
    disabled: false,
    lastSeenAt: ctx.clock.now().toISOString(),
    createdAt: '',
    ...(viewer.actingFor ? { actingFor: viewer.actingFor } : {}),
  };
  return { me, inbox, mine, offers: policyOffers(ctx.policy.current()), serverTime: ctx.clock.now().toISOString() };
}
