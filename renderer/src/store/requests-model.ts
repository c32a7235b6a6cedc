import type { SyncResult } from '../../../protocol/events.js';
import { whoDecided, type Decision, type GreenlightRequest } from '../../../protocol/request.js';
import { compareUrgency } from '../../../protocol/urgency.js';
import { waitsOnMe } from '../../../protocol/waits-on-me.js';

export interface Me {
  name: string;
  groups: string[];
  roles: string[];
}

/** A request that just left my inbox because someone else decided it; shown briefly. */
export interface Departure {
  request: GreenlightRequest;
  note: string;
  at: number;
}

export interface RequestsData {
  byId: Record<string, GreenlightRequest>;
  departed: Record<string, Departure>;
}

export const emptyRequests: RequestsData = { byId: {}, departed: {} };

/** The vote I cast on this request: my own, or one I cast as someone's delegate (`by` me). */
export function myVote(request: GreenlightRequest, me: Me): Decision | null {
  return request.decisions.find((decision) => decision.approver === me.name || decision.by === me.name) ?? null;
}


/** Waiting on me, by the rule the hub, the tray and notifications share. */
export function waitsOn(request: GreenlightRequest, me: Me | null): boolean {
  return me !== null && waitsOnMe(request, me);
}

/** "approved by carol", "denied by dana for sue" (a delegate for an approver), "expired", "cancelled by alice". */
export function describeOutcome(request: GreenlightRequest): string {
  if (request.status === 'pending') return 'pending';
  if (request.status === 'expired') return 'expired';
  const by = whoDecided(request) ?? (request.status === 'cancelled' ? request.requester : null);
  const why = request.cancelReason ? `: ${request.cancelReason}` : '';
  return by ? `${request.status} by ${by}${why}` : request.status;
}

/**
 * A full sync replaces what we knew: anything decided while we were away simply is not in it.
 * `keep` is a request opened by its link, which a sync of my inbox and my requests need not carry.
 */
export function applySync(state: RequestsData, result: SyncResult, keep: string | null = null): RequestsData {
  const byId: Record<string, GreenlightRequest> = {};
  for (const request of [...result.inbox, ...result.mine]) {
    const known = byId[request.id];
    if (!known || isNewer(request, known)) byId[request.id] = request;
  }
  const kept = keep === null ? undefined : state.byId[keep];
  if (kept && !byId[kept.id]) byId[kept.id] = kept;
  // Keep a newer copy that arrived by event while the sync was in flight.
  for (const [id, request] of Object.entries(state.byId)) {
    const synced = byId[id];
    if (synced && isNewer(request, synced)) byId[id] = request;
  }
  return { byId, departed: state.departed };
}

/** Whether `next` is a later state than `known`: the hub bumps a request's version on every change, its grant's included. */
export function isNewer(next: GreenlightRequest, known: GreenlightRequest): boolean {
  return next.version > known.version;
}

/** Applies one created/updated/escalated request; stale versions are ignored. */
export function applyRequest(state: RequestsData, request: GreenlightRequest, me: Me | null, now: number): RequestsData {
  const previous = state.byId[request.id];
  if (previous && !isNewer(request, previous)) return state;
  const byId = { ...state.byId, [request.id]: request };
  let departed = state.departed;
  if (previous && waitsOn(previous, me) && request.status !== 'pending' && request.decidedBy !== me?.name) {
    departed = { ...departed, [request.id]: { request, note: describeOutcome(request), at: now } };
  }
  return { byId, departed };
}

export function dropDepartures(state: RequestsData, olderThan: number): RequestsData {
  const entries = Object.entries(state.departed);
  const kept = entries.filter(([, departure]) => departure.at >= olderThan);
  if (kept.length === entries.length) return state;
  return { byId: state.byId, departed: Object.fromEntries(kept) };
}

export function selectInbox(byId: Record<string, GreenlightRequest>, me: Me | null): GreenlightRequest[] {
  return Object.values(byId)
    .filter((request) => waitsOn(request, me))
    .sort(compareUrgency);
}

export function selectMine(byId: Record<string, GreenlightRequest>, me: Me | null): GreenlightRequest[] {
  if (!me) return [];
  return Object.values(byId)
    .filter((request) => request.requester === me.name)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Where `j`/`k` lands: the next or previous id in the list, clamped to its ends. */
export function stepSelection(ids: string[], current: string | null, step: 1 | -1): string | null {
  if (ids.length === 0) return null;
  const index = current === null ? -1 : ids.indexOf(current);
  if (index === -1) return step === 1 ? (ids[0] ?? null) : (ids[ids.length - 1] ?? null);
  return ids[Math.min(ids.length - 1, Math.max(0, index + step))] ?? null;
}
