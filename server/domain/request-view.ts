import type { Kysely, Transaction } from 'kysely';
import { decidesAnything, quorumProgress, whoVoted, type AuditEvent, type GreenlightRequest, type TimelineEntry, type AuditType } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { decodeAuditData, decodeAuditType } from '../store/audit-events.js';
import { requestStore, type RequestRecord, type RequestRef } from '../store/requests.js';
import { grantStore, type GrantRecord } from '../store/grants.js';
import { decisionStore, type DecisionRecord } from '../store/decisions.js';
import { inLists } from '../store/in-lists.js';
import type { Actor } from './actor.js';
import { actsAsAdmin } from './actor.js';
import type { Audience } from './audience.js';
import type { ViewCache, ViewKey } from './view-cache.js';
import type { GrantTokenSeal } from '../keys/grant-token-seal.js';

export type Executor = Kysely<Database> | Transaction<Database>;

export type { RequestRef } from '../store/requests.js';

/** Everyone who may decide the request now. */
export const approversOf = (row: RequestRecord): Audience => ({ groups: row.eligible_groups, users: row.eligible_users });

/** May this person decide the request (ignoring its status)? */
export function isEligibleApprover(row: Pick<RequestRecord, 'eligible_groups' | 'eligible_users'>, actor: Pick<Actor, 'name' | 'roles' | 'groups'>): boolean {
  if (!decidesAnything(actor.roles)) return false;
  if (row.eligible_users.includes(actor.name)) return true;
  const groups = row.eligible_groups;
  return actor.groups.some((group) => groups.includes(group));
}

export function canSee(row: RequestRecord, actor: Actor, voters: string[] = []): boolean {
  return row.requester_id === actor.id || actsAsAdmin(actor) || isEligibleApprover(row, actor) || voters.includes(actor.name);
}

/** An approver's change of the start, as the timeline says it. */
function startMoved(data: Record<string, unknown>): string | null {
  const change = data.startChanged as { from?: unknown; to?: unknown } | undefined;
  if (!change || typeof change.to !== 'string') return null;
  return `start moved ${typeof change.from === 'string' ? `from ${change.from} ` : ''}to ${change.to}`;
}

/** " for sue" when the event's actor acted as sue's delegate. */
const forWhom = (data: Record<string, unknown>): string => (typeof data.onBehalfOf === 'string' ? ` for ${data.onBehalfOf}` : '');
/** What a comment adds to a detail: ": not in the freeze", or nothing. */
const commented = (data: Record<string, unknown>): string => (typeof data.comment === 'string' && data.comment ? `: ${data.comment}` : '');

/** A deciding vote's detail: "for sue: not in the freeze" when cast for sue, else its comment; null when neither. */
function decidingVote(data: Record<string, unknown>): string | null {
  if (typeof data.onBehalfOf === 'string') return `for ${data.onBehalfOf}${commented(data)}`;
  return typeof data.comment === 'string' && data.comment ? data.comment : null;
}

/** Withdrawn approvals as people read them: "lia for bob" for one lia cast for bob (`castBy` maps approver to delegate). */
function withdrawnVotes(approvals: unknown[], castBy: unknown): string[] {
  const delegates = typeof castBy === 'object' && castBy !== null ? (castBy as Record<string, unknown>) : {};
  return approvals.map(String).map((approver) => {
    const by = Object.hasOwn(delegates, approver) ? delegates[approver] : undefined;
    return whoVoted({ approver, ...(typeof by === 'string' ? { by } : {}) });
  });
}

const TIMELINE_DETAIL: Partial<Record<AuditType, (data: Record<string, unknown>) => string | null>> = {
  'request.submitted': (d) =>
    [typeof d.extends === 'string' ? `extends grant ${d.extends}` : null, Array.isArray(d.notified) && d.notified.length ? `notified ${d.notified.join(', ')}` : null].filter(Boolean).join('; ') || null,
  'request.vote': (d) => [`approved${forWhom(d)}${commented(d)}`, startMoved(d)].filter(Boolean).join('; '),
  'request.approved': (d) => [decidingVote(d), startMoved(d)].filter(Boolean).join('; ') || null,
  'request.denied': decidingVote,
  'request.cancelled': (d) => (typeof d.reason === 'string' ? d.reason : null),
  'request.break_glass': (d) => (typeof d.incident === 'string' ? `break-glass for ${d.incident}; review due ${String(d.dueAt)}` : null),
  'request.reviewed': (d) =>
    typeof d.comment === 'string' ? `${typeof d.outcome === 'string' ? d.outcome : 'reviewed'}${forWhom(d)}: ${d.comment}` : null,
  'request.review_overdue': (d) => (Array.isArray(d.notified) ? `break-glass review overdue; told ${d.notified.join(', ')}` : null),
  'request.escalated': (d) =>
    `step ${String(d.step)}: notified ${Array.isArray(d.notified) ? d.notified.join(', ') : ''}${typeof d.reason === 'string' ? ` at once: ${d.reason}` : ''}`,
  'request.claimed': (d) => (typeof d.until === 'string' ? `until ${d.until}` : null),
  'request.released': (d) => (typeof d.reason === 'string' ? d.reason : null),
  'request.vote_withdrawn': (d) =>
    typeof d.reason === 'string'
      ? `${Array.isArray(d.approvals) ? `${withdrawnVotes(d.approvals, d.castBy).join(', ')}: ` : ''}${d.reason}${typeof d.remaining === 'number' && typeof d.of === 'number' ? `; ${d.remaining} of ${d.of} approvals remain` : ''}`
      : null,
  'request.vote_narrowed': (d) =>
    typeof d.approver === 'string' && Array.isArray(d.lines) ? `${d.approver}'s approval now counts only toward ${d.lines.join(', ')}: ${String(d.reason)}` : null,
  'grant.issued': (d) => (typeof d.expiresAt === 'string' ? `${typeof d.notBefore === 'string' ? `valid from ${d.notBefore}, ` : ''}expires ${d.expiresAt}` : null),
  'request.reminded': (d) => `reminder ${String(d.reminder)}`,
  'grant.expiring': (d) => (typeof d.expiresAt === 'string' ? `expires ${d.expiresAt}` : null),
  'request.escalation_repeated': (d) => `escalation chain, run ${String(d.run)} of ${String(d.of)}`,
};

/** A request's grant with its token opened, for the requester's view only (null for anyone else's). */
export type OpenedGrant = Omit<GrantRecord, 'sealedToken'> & { token: string | null };

/** Where views are read from: the database, and what opens a grant's sealed token for its requester. */
export interface ViewReader {
  db: Executor;
  grantTokens: Pick<GrantTokenSeal, 'openStored'>;
}

/** The hub's view reader, on its database or inside a transaction of it. */
export const viewReader = (ctx: { store: { db: Kysely<Database> }; grantTokens: ViewReader['grantTokens'] }, db: Executor = ctx.store.db): ViewReader => ({ db, grantTokens: ctx.grantTokens });

function openedFor(reader: ViewReader, grant: GrantRecord | undefined, row: RequestRecord, viewer: { id: string } | null): OpenedGrant | undefined {
  if (!grant) return undefined;
  const { sealedToken, ...rest } = grant;
  const forRequester = viewer !== null && viewer.id === row.requester_id && viewer.id === grant.requesterId;
  return { ...rest, token: forRequester ? reader.grantTokens.openStored(grant, sealedToken) : null };
}

/** What a view is built from besides the request row. */
export interface ViewParts {
  decisions: DecisionRecord[];
  grant: OpenedGrant | undefined;
  events: Pick<AuditEvent, 'at' | 'type' | 'actor' | 'data'>[];
}

/** The request as clients see it. The grant token goes only to the requester. */
export async function buildView(reader: ViewReader, row: RequestRecord, viewer: { id: string } | null): Promise<GreenlightRequest> {
  const { db } = reader;
  const [decisions, grant, events] = await Promise.all([
    decisionStore.ofRequest(db, row.id),
    grantStore.ofRequest(db, row.id),
    db.selectFrom('audit_events').select(['at', 'type', 'actor', 'data']).where('request_id', '=', row.id).orderBy('seq').execute(),
  ]);
  const parsed = events.map((event) => ({ ...event, type: decodeAuditType(event.type), data: decodeAuditData(event.data) }));
  return assembleView(row, { decisions, grant: openedFor(reader, grant, row, viewer), events: parsed }, viewer);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/**
 * Views of many requests with one query per table for the lot (lists, sync, a reconnect storm), instead
 * of three per request. Same result as buildView for each.
 */
export async function buildViews(reader: ViewReader, rows: RequestRecord[], viewer: { id: string } | null): Promise<GreenlightRequest[]> {
  if (rows.length === 0) return [];
  const { db } = reader;
  const parts = await Promise.all(
    inLists(rows.map((row) => row.id)).map((ids) =>
      Promise.all([
        decisionStore.ofRequests(db, ids),
        grantStore.ofRequests(db, ids),
        db.selectFrom('audit_events').select(['request_id', 'at', 'type', 'actor', 'data']).where('request_id', 'in', ids).orderBy('seq').execute(),
      ]),
    ),
  );
  const decisions = groupBy(parts.flatMap(([d]) => d), (d) => d.requestId);
  const grants = new Map(parts.flatMap(([, g]) => g).map((grant) => [grant.requestId, grant]));
  const events = groupBy(parts.flatMap(([, , e]) => e), (e) => e.request_id ?? '');
  return rows.map((row) =>
    assembleView(
      row,
      {
        decisions: decisions.get(row.id) ?? [],
        grant: openedFor(reader, grants.get(row.id), row, viewer),
        events: (events.get(row.id) ?? []).map((event) => ({ at: event.at, type: decodeAuditType(event.type), actor: event.actor, data: decodeAuditData(event.data) })),
      },
      viewer,
    ),
  );
}

/**
 * Views of the requests `refs` names, in that order, reusing those already built for the same
 * version and audit trail, or waiting for those another sync is building; the rest are read and
 * built in bulk (as buildViews) and remembered.
 */
export async function buildViewsCached(reader: ViewReader, cache: ViewCache, refs: RequestRef[], viewer: { id: string } | null): Promise<GreenlightRequest[]> {
  if (refs.length === 0) return [];
  const { db } = reader;
  const ids = refs.map((ref) => ref.id);
  const lastSeqs = new Map(
    (await db.selectFrom('audit_events').select((eb) => ['request_id', eb.fn.max('seq').as('last')]).where('request_id', 'in', ids).groupBy('request_id').execute()).map(
      (row) => [row.request_id ?? '', String(row.last)],
    ),
  );
  const lastSeqOf = (id: string) => lastSeqs.get(id) ?? '';
  const build = async (missing: string[]) => {
    const built = await buildViews(reader, await requestStore.byIds(db, missing), viewer);
    for (const view of built) cache.remember(view, lastSeqOf(view.id));
    return built;
  };
  const views = new Map<string, GreenlightRequest>();
  const missing = new Map<string, ViewKey>();
  const awaited: Promise<void>[] = [];
  // Those not shared (a view with a grant is this viewer's alone) or whose build failed.
  const notShared: string[] = [];
  for (const ref of refs) {
    const key = { id: ref.id, version: Number(ref.version), lastSeq: lastSeqOf(ref.id) };
    const view = cache.get(key.id, key.version, key.lastSeq);
    if (view) {
      views.set(ref.id, view);
      continue;
    }
    const flight = cache.inFlight(key.id, key.version, key.lastSeq);
    if (!flight) missing.set(ref.id, key);
    else
      awaited.push(
        flight.then((shared) => {
          if (shared) views.set(ref.id, shared);
          else notShared.push(ref.id);
        }),
      );
  }
  // Registered before the next await, so a sync that misses the same views meanwhile waits for this build.
  const own = missing.size ? build([...missing.keys()]) : Promise.resolve([]);
  if (missing.size) cache.flying([...missing.values()], own);
  const [built] = await Promise.all([own, ...awaited]);
  for (const view of built) views.set(view.id, view);
  if (notShared.length) for (const view of await build([...new Set(notShared)])) views.set(view.id, view);
  return refs.flatMap((ref) => views.get(ref.id) ?? []);
}

/** The view from parts already in hand (a request just written knows its decisions, grant and events). */
export function assembleView(row: RequestRecord, { decisions, grant, events }: ViewParts, viewer: { id: string } | null): GreenlightRequest {
  const timeline: TimelineEntry[] = events.map((event) => ({
    at: event.at,
    type: event.type,
    actor: event.actor,
    detail: TIMELINE_DETAIL[event.type]?.(event.data) ?? null,
  }));
  const isRequester = viewer?.id === row.requester_id;
  const rule = row.rule;
  const glass = events.find((event) => event.type === 'request.break_glass');
  const reviewed = events.find((event) => event.type === 'request.reviewed');
  const overdue = events.some((event) => event.type === 'request.review_overdue');
  const cancelled = row.status === 'cancelled' ? events.find((event) => event.type === 'request.cancelled') : undefined;
  return {
    id: row.id,
    action: row.action,
    resource: row.resource,
    environment: row.environment,
    requester: row.requester_name,
    reason: row.reason,
    risk: row.risk,
    context: row.context,
    requestedTtlSeconds: row.requested_ttl_seconds,
    notBefore: row.not_before,
    extends: row.extends_jti,
    status: row.status,
    version: Number(row.version),
    rule,
    eligibleGroups: row.eligible_groups,
    eligibleUsers: row.eligible_users,
    escalationLevel: Number(row.escalation_level),
    nextEscalationAt: row.status === 'pending' ? row.next_escalation_at : null,
    expiresAt: row.status === 'pending' ? row.expires_at : null,
    claim: row.claim_by && row.claim_until && row.status === 'pending' ? { by: row.claim_by, until: row.claim_until } : null,
    decisions: decisions.map((d) => ({ approver: d.approverName, decision: d.decision, comment: d.comment, at: d.createdAt, ...(d.lines ? { lines: d.lines } : {}), ...(d.delegateName ? { by: d.delegateName } : {}) })),
    approvals: decisions.filter((d) => d.decision === 'approve').length,
    ...(rule.require
      ? { quorum: quorumProgress(rule.require, decisions.filter((d) => d.decision === 'approve').map((d) => ({ approver: d.approverName, lines: d.lines ?? [] }))) }
      : {}),
    grant: grant
      ? {
          jti: grant.jti,
          status: grant.status,
          issuedAt: grant.issuedAt,
          notBefore: grant.notBefore,
          expiresAt: grant.expiresAt,
          ...(isRequester && grant.token !== null ? { token: grant.token } : {}),
        }
      : null,
    timeline,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    ...(row.decided_for ? { decidedFor: row.decided_for } : {}),
    ...(typeof cancelled?.data.reason === 'string' ? { cancelReason: cancelled.data.reason } : {}),
    ...(glass
      ? {
          breakGlass: {
            incident: String(glass.data.incident),
            review: reviewed ? (reviewed.data.outcome === 'unratified' ? 'unratified' : 'ratified') : overdue ? 'overdue' : 'open',
            reviewers: Array.isArray(glass.data.reviewers) ? glass.data.reviewers.map(String) : [],
            reviewDueAt: String(glass.data.dueAt),
            reviewedBy: reviewed?.actor ?? null,
            ...(typeof reviewed?.data.onBehalfOf === 'string' ? { reviewedFor: reviewed.data.onBehalfOf } : {}),
            reviewComment: typeof reviewed?.data.comment === 'string' ? reviewed.data.comment : null,
          },
        }
      : {}),
  };
}

/** Drops what only the requester may see. */
export function withoutSecrets(request: GreenlightRequest): GreenlightRequest {
  if (!request.grant?.token) return request;
  const { token: _token, ...grant } = request.grant;
  return { ...request, grant };
}
