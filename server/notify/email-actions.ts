import { z } from 'zod';
import { describeMisleadingText, describeProgress, findMisleadingText, GreenlightError, LIMITS, linesFor, type DecisionKind, type GreenlightRequest, type Risk } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import { decideRequest } from '../domain/requests.js';
import type { EmailActionsTable } from '../store/schema.js';
import { requestStore, whoDecidedRecord, type RequestRecord } from '../store/requests.js';
import { decisionStore } from '../store/decisions.js';
import { userStore } from '../store/users.js';
import { actorWithoutToken } from '../identity/link-actor.js';
import { needsConsole } from './email-outbox.js';
import { activeDelegatorsOf, standInsOn, type Delegator } from '../domain/deciders.js';
import { capacitiesOn, unnamedVoteFor } from '../domain/capacities.js';
import { buildView, isEligibleApprover, viewReader } from '../domain/request-view.js';
import { EMAIL_ACTION_TOKEN, emailActionTokenHash } from './email-tokens.js';

/** What a confirm page shows of the request: what, who, why, risk. */
export interface ActionRequest {
  id: string;
  action: string;
  resource: string;
  environment: string;
  requester: string;
  reason: string;
  risk: Risk;
  summary: string | null;
}

/** Where an email link stands, and so which page it shows. */
export type EmailActionState =
  | { kind: 'unknown' }
  | { kind: 'expired'; request: ActionRequest; expiredAt: string }
  /** Nothing left to decide: the request is decided (`decidedBy` as people read it: "dana for sue"), or this link (or its approver) already voted. */
  | { kind: 'closed'; request: ActionRequest; status: string; decidedBy: string | null; decidedAt: string | null; usedAt: string | null; votedTo?: DecisionKind }
  /** High or critical risk without the rule's `emailApprove`: decide in the console. */
  | { kind: 'console'; request: ActionRequest; decision: DecisionKind }
  /** `onBehalfOf`: the approver a delegate's link decides for, kept with the token's hash (never read from the link). */
  | { kind: 'open'; request: ActionRequest; decision: DecisionKind; approver: string; onBehalfOf: string | null }
  /**
   * Whom the link decides for (`forWhom`) can no longer give a vote that counts: their vote is in, or
   * every quorum line they count toward is full. `stillFor`: whom the recipient may still decide for.
   */
  | { kind: 'moot'; request: ActionRequest; approver: string; forWhom: string; why: Moot; stillFor: string[] };

/** Why a vote for someone would no longer count: it is in already, or their lines are full. */
export type Moot = { kind: 'voted'; decision: DecisionKind; by: string | null } | { kind: 'lines-full'; lines: string[]; progress: string };

export type EmailActionResult =
  | EmailActionState
  | { kind: 'decided'; request: ActionRequest; decision: DecisionKind; status: string }
  /** The domain said no (no longer eligible, own request, disabled account): its message, as it said it. */
  | { kind: 'refused'; request: ActionRequest; message: string };

/** The comment box of a Deny page, as a form posts it. */
export const emailActionFormSchema = z.object({
  comment: z
    .string()
    .max(LIMITS.comment, `a comment of at most ${LIMITS.comment} characters`)
    .optional()
    .transform((comment) => comment?.trim() || undefined)
    // Checked here, before the link is used up, rather than only when the decision is parsed.
    .superRefine((comment, ctx) => {
      const misleading = comment === undefined ? null : findMisleadingText(comment);
      if (misleading) ctx.addIssue({ code: 'custom', message: `the comment ${describeMisleadingText(misleading)}` });
    }),
});

function summarise(row: RequestRecord): ActionRequest {
  return { id: row.id, action: row.action, resource: row.resource, environment: row.environment, requester: row.requester_name, reason: row.reason, risk: row.risk, summary: row.context.summary ?? null };
}

interface FoundLink {
  link: EmailActionsTable;
  row: RequestRecord;
  /** How the link's person already voted on the request (with another link, or elsewhere). */
  votedTo: DecisionKind | null;
}

async function find(ctx: Context, token: string): Promise<FoundLink | null> {
  if (!EMAIL_ACTION_TOKEN.test(token)) return null;
  const link = await ctx.store.db.selectFrom('email_actions').selectAll().where('token_hash', '=', emailActionTokenHash(token)).executeTakeFirst();
  if (!link) return null;
  const row = await requestStore.byId(ctx.store.db, link.request_id);
  if (!row) return null;
  const voted = row.status === 'pending' ? await decisionStore.castBy(ctx.store.db, row.id, link.user_id) : undefined;
  return { link, row, votedTo: voted?.decision ?? null };
}

function stateOf(ctx: Context, found: FoundLink | null, approver: string): EmailActionState {
  if (!found) return { kind: 'unknown' };
  const { link, row, votedTo } = found;
  const request = summarise(row);
  const decision = link.decision as DecisionKind;
  // One person votes once: the other link of the same mail (or a vote in the console) closes this one too.
  if (row.status !== 'pending' || link.used_at || votedTo) {
    return { kind: 'closed', request, status: row.status, decidedBy: whoDecidedRecord(row), decidedAt: row.decided_at, usedAt: link.used_at, ...(votedTo ? { votedTo } : {}) };
  }
  if (Date.parse(link.expires_at) <= ctx.clock.now().getTime()) return { kind: 'expired', request, expiredAt: link.expires_at };
  if (needsConsole(row.risk, row.rule)) return { kind: 'console', request, decision };
  return { kind: 'open', request, decision, approver, onBehalfOf: link.on_behalf_of };
}

/** Why a vote for `forWhom` would not count, when that is why capacitiesOn leaves them out; null for any other reason (decideRequest says those). */
function whyMoot(view: GreenlightRequest, row: RequestRecord, actor: Actor, delegators: Delegator[], forWhom: string): Moot | null {
  const vote = view.decisions.find((decision) => decision.approver === forWhom);
  if (vote) return { kind: 'voted', decision: vote.decision, by: vote.by ?? null };
  const person = forWhom === actor.name ? (isEligibleApprover(row, actor) ? actor : null) : (standInsOn(delegators, row, forWhom)[0] ?? null);
  const require = row.rule.require;
  if (!person || !require || !view.quorum) return null;
  return { kind: 'lines-full', lines: linesFor(require, { eligibleGroups: row.eligible_groups, eligibleUsers: row.eligible_users }, person), progress: describeProgress(view.quorum) };
}

/**
 * A link whose vote would no longer count (the console would no longer offer it: capacitiesOn) shows
 * why before anyone presses a button, and whom the recipient may still decide for.
 */
async function mootState(ctx: Context, found: FoundLink, actor: Actor): Promise<EmailActionState | null> {
  const delegators = await activeDelegatorsOf(ctx.store.db, actor, ctx.clock.now());
  const forWhom = found.link.on_behalf_of ?? unnamedVoteFor(found.row, actor, delegators);
  if (forWhom === null) return null;
  const view = await buildView(viewReader(ctx), found.row, null);
  const capacities = capacitiesOn(view, actor, delegators);
  if (capacities.includes(forWhom)) return null;
  const why = whyMoot(view, found.row, actor, delegators, forWhom);
  return why && { kind: 'moot', request: summarise(found.row), approver: actor.name, forWhom, why, stillFor: capacities };
}

interface LookedUp {
  state: EmailActionState;
  found: FoundLink | null;
  /** The link's person as they decide through it, once it is open; null when disabled or gone. */
  actor: Actor | null;
}

/** Where a link stands now. Its person is read once: named on its page, and the one who decides through it. */
async function lookUp(ctx: Context, token: string): Promise<LookedUp> {
  const found = await find(ctx, token);
  const user = found ? await userStore.byId(ctx.store.db, found.link.user_id) : undefined;
  const state = stateOf(ctx, found, user?.name ?? 'you');
  if (state.kind !== 'open' || !found) return { state, found, actor: null };
  const actor = user && !user.disabled ? actorWithoutToken(user, await userStore.groupsOf(ctx.store.db, user.id)) : null;
  return { state: (actor && (await mootState(ctx, found, actor))) ?? state, found, actor };
}

/** Gives a used link back when nothing was decided, so it may be used again; best effort, as the trouble that led here is what the page says. */
async function releaseLink(ctx: Context, link: EmailActionsTable): Promise<void> {
  await ctx.store.db.updateTable('email_actions').set({ used_at: null }).where('token_hash', '=', link.token_hash).execute().catch(() => undefined);
}

/** What a link shows when opened (GET or HEAD): it changes nothing, so link scanners burn nothing. */
export async function readEmailAction(ctx: Context, token: string): Promise<EmailActionState> {
  return (await lookUp(ctx, token)).state;
}

/**
 * The confirm form was posted: uses the link once, then decides through the same domain code as every
 * other path (eligibility, self-approval, quorum, expiry, audit), recorded as `via: email`.
 */
export async function useEmailAction(ctx: Context, token: string, form: unknown): Promise<EmailActionResult> {
  const { state, found, actor } = await lookUp(ctx, token);
  if (state.kind !== 'open' || !found) return state;
  const parsed = emailActionFormSchema.safeParse(form ?? {});
  if (!parsed.success) return { kind: 'refused', request: state.request, message: `Nothing was decided: ${parsed.error.issues[0]?.message ?? 'the form was not understood'}. Go back and try again.` };
  const { comment } = parsed.data;
  const { link, row } = found;
  const now = ctx.clock.now().toISOString();
  const claimed = await ctx.store.db.updateTable('email_actions').set({ used_at: now }).where('token_hash', '=', link.token_hash).where('used_at', 'is', null).executeTakeFirst();
  // Another POST of this link got here first.
  if (Number(claimed.numUpdatedRows) !== 1) return readEmailAction(ctx, token);
  if (!actor) return { kind: 'refused', request: state.request, message: 'Your Greenlight account is disabled; ask an admin.' };
  try {
    const behalf = link.on_behalf_of === null ? {} : { onBehalfOf: link.on_behalf_of };
    const decided = await decideRequest(ctx, actor, row.id, { decision: state.decision, ...(comment ? { comment } : {}), ...behalf }, 'email');
    return { kind: 'decided', request: state.request, decision: state.decision, status: decided.status };
  } catch (error) {
    if (!(error instanceof GreenlightError)) {
      // Not an answer about the request (the database is away, say): the link may be used again.
      await releaseLink(ctx, link);
      throw error;
    }
    if (error.code === 'ALREADY_DECIDED' || error.code === 'QUORUM_LINE_MET') {
      const fresh = await find(ctx, token);
      if (fresh && fresh.row.status !== 'pending') return stateOf(ctx, fresh, actor.name);
      // Another vote got in first since the page was shown: nothing was decided, and the page says why.
      const moot = fresh && (await mootState(ctx, fresh, actor));
      if (moot) {
        await releaseLink(ctx, link);
        return moot;
      }
    }
    if (error.code === 'INVALID_INPUT') {
      // Nothing was decided, and the person can fix what they typed: the link stays theirs.
      await releaseLink(ctx, link);
      return { kind: 'refused', request: state.request, message: `Nothing was decided: ${error.message}. Go back and try again.` };
    }
    if (error.code === 'UNAVAILABLE') {
      await releaseLink(ctx, link);
      throw error;
    }
    return { kind: 'refused', request: state.request, message: error.message };
  }
}
