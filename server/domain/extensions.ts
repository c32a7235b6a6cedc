import { formatDuration, GreenlightError, extendInputSchema, newRequestSchema, parseOrThrow, type FrozenRule, type GreenlightRequest, type NewRequest } from '../../protocol/index.js';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { requestStore, type RequestRecord } from '../store/requests.js';
import { grantStore, type GrantRecord } from '../store/grants.js';
import { breakGlassReviewStore } from '../store/break-glass-reviews.js';
import type { Actor } from './actor.js';
import type { Context } from './context.js';
import { loadRequestRow } from './lifecycle/expiry.js';
import type { Executor } from './request-view.js';
import { submitRequest } from './submit.js';
import { readBackRefusal } from './read-back.js';
import { DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS } from './time/access-start.js';

export const DEFAULT_EXTEND_BEFORE_SECONDS = 15 * 60;

const seconds = (grant: Pick<GrantRecord, 'notBefore' | 'expiresAt'>) => Math.round((Date.parse(grant.expiresAt) - Date.parse(grant.notBefore)) / 1000);

/**
 * How many approved extensions lead up to this request, how long their grants lasted together, and
 * whether the chain began with a break-glass use.
 */
async function extensionsSoFar(db: Executor, request: RequestRecord): Promise<{ count: number; seconds: number; fromBreakGlass: boolean }> {
  let count = 0;
  let total = 0;
  let current = request;
  while (current.extends_jti) {
    const own = await grantStore.spanOfRequest(db, current.id);
    count += 1;
    total += own ? seconds(own) : 0;
    const extended = await grantStore.requestIdOf(db, current.extends_jti);
    if (extended === undefined) break;
    current = await loadRequestRow(db, extended);
  }
  const fromBreakGlass = (await breakGlassReviewStore.ofRequest(db, current.id)) !== undefined;
  return { count, seconds: total, fromBreakGlass };
}

function limitRefusal(rule: FrozenRule, used: number, asked: number): GreenlightError | null {
  const cap = rule.extensions?.maxTotalSeconds;
  if (cap === null || cap === undefined || used + asked <= cap) return null;
  if (cap === 0) return new GreenlightError('EXTENSION_LIMIT', `Rule "${rule.name}" allows no extensions (its extensions.maxTotal is 0s). Ask for new access instead.`);
  const left = Math.max(0, cap - used);
  return new GreenlightError(
    'EXTENSION_LIMIT',
    `Extensions under rule "${rule.name}" may add at most ${formatDuration(cap)} in all; ${formatDuration(used)} were added already, so at most ${formatDuration(left)} more. Ask for new access instead.`,
  );
}

/** Why a grant can no longer be extended (revoked, ended, or gone), or null while it runs. */
function endedRefusal(grant: Pick<GrantRecord, 'status' | 'expiresAt'> | undefined, now: Date): GreenlightError | null {
  if (grant && grant.status !== 'revoked' && grant.status !== 'expired' && Date.parse(grant.expiresAt) > now.getTime()) return null;
  const state = grant?.status === 'revoked' ? 'was revoked' : 'has ended';
  return new GreenlightError('CONFLICT', `This grant ${state}, so it can no longer be extended; ask for new access instead.`);
}

/**
 * An extension's access starts where the grant ends, and like any request's it is arranged at most
 * `maxScheduleAhead` ahead: when that is the shorter, it bounds when an extension may be asked, and
 * the refusal says so in the extension's terms (its start is nothing the requester sent).
 */
function beforeExtensionWindow(rule: FrozenRule, grant: Pick<GrantRecord, 'expiresAt'>, now: Date): GreenlightError | null {
  const extendBefore = rule.extendBeforeSeconds ?? DEFAULT_EXTEND_BEFORE_SECONDS;
  const scheduleAhead = rule.maxScheduleAheadSeconds ?? DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS;
  const window = Math.min(extendBefore, scheduleAhead);
  const opensAt = Date.parse(grant.expiresAt) - window * 1000;
  if (now.getTime() >= opensAt) return null;
  const why = scheduleAhead < extendBefore ? ` (an extension starts where the grant ends, and rule "${rule.name}" arranges access at most ${formatDuration(scheduleAhead)} ahead: its maxScheduleAhead)` : '';
  return new GreenlightError('CONFLICT', `A grant can be extended only in its last ${formatDuration(window)}${why}: from ${new Date(opensAt).toISOString()} for this one.`);
}

/**
 * A request stored before the hub refused some text (direction controls, blank fillers) would be
 * refused as an extension naming a field the requester never sent this time: say what it is instead.
 */
function refuseStoredTextNoLongerAccepted(body: NewRequest): void {
  try {
    parseOrThrow(newRequestSchema, body, 'extension');
  } catch (error) {
    if (!(error instanceof GreenlightError) || error.code !== 'INVALID_INPUT') throw error;
    // What the hub found, without the advice to the sender, which the requester can't follow here.
    const why = error.message.replace(/^Invalid extension: /, '').replace(/; remove it$/, '');
    throw new GreenlightError('CONFLICT', `This grant's request holds text this hub no longer accepts (${why}), so it can't be extended as it stands; ask for new access instead.`);
  }
}

/**
 * More time on a grant about to end: a new request linked to it, asking for access from the old
 * grant's end. The grant itself never changes. An extension is a new request, so the policy in
 * force now judges it (the rule it matches now, not the one frozen into the first request): that
 * rule's first `extensions.autoApprove` extensions are approved at once; later ones wait for the
 * approvers. So does every extension of a break-glass use: its cap and its review are not to be
 * outrun by extensions nobody approved.
 */
export async function extendGrant(ctx: Context, actor: Actor, jti: string, input: unknown): Promise<GreenlightRequest> {
  const { ttlSeconds, reason } = parseOrThrow(extendInputSchema, input, 'extension');
  const db = ctx.store.db;
  const grant = await grantStore.byJti(db, jti);
  if (!grant) throw new GreenlightError('NOT_FOUND', `No grant ${jti}.`);
  const original = await loadRequestRow(db, grant.requestId);
  if (original.requester_id !== actor.id) throw new GreenlightError('FORBIDDEN', 'Only the requester can extend their grant.');
  // A token made only to submit extends only grants of what it submitted itself: the answer carries the new grant.
  const unreadable = readBackRefusal(actor, original);
  if (unreadable) throw unreadable;
  const ended = endedRefusal(grant, ctx.clock.now());
  if (ended) throw ended;
  const body: NewRequest = {
    action: original.action,
    resource: original.resource,
    environment: original.environment,
    reason,
    risk: original.risk,
    context: original.context,
    requestedTtlSeconds: ttlSeconds,
    notBefore: grant.expiresAt,
  };
  refuseStoredTextNoLongerAccepted(body);
  const admit = async (trx: Transaction<Database>, rule: FrozenRule): Promise<{ autoApprove: boolean } | { refused: GreenlightError }> => {
    const tooEarly = beforeExtensionWindow(rule, grant, ctx.clock.now());
    if (tooEarly) return { refused: tooEarly };
    // Another hub may be extending this grant at the same moment: the transaction holds the audit
    // chain's head from its start (inTransaction), so this check sees an extension the other
    // committed, and the other waits for this one.
    // A revoke that committed since the check above ends this grant's extensions; one admitted after
    // it would outlive the revoke, so the grant's state is read again under the chain head.
    const endedSince = endedRefusal(await grantStore.byJti(trx, jti), ctx.clock.now());
    if (endedSince) return { refused: endedSince };
    const already = await requestStore.liveExtensionOf(trx, jti);
    if (already) return { refused: new GreenlightError('CONFLICT', `This grant is already being extended by ${already.id} (${already.status}).`) };
    const soFar = await extensionsSoFar(trx, original);
    // The rule's grantTtl caps an extension as it caps any request; the cap counts what will be granted.
    const refused = limitRefusal(rule, soFar.seconds, Math.min(ttlSeconds, rule.grantTtlSeconds));
    if (refused) return { refused };
    return { autoApprove: !soFar.fromBreakGlass && soFar.count < (rule.extensions?.autoApprove ?? 0) };
  };
  return (await submitRequest(ctx, actor, body, { jti, admit })).request;
}
