import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { IN_LIST_SIZE, inLists } from '../../store/in-lists.js';
import { compareGrant, compareRequest, endsInLog, type DecisionRow, type GrantRow, type RequestRow, type StateFinding } from './compare.js';
import { issuedJti, StateReplay, type LoggedGrant, type ReplayedEvent } from './replay.js';
import { comparePayload, compareSubmission, type SubmittedRow } from './compare-submitted.js';
import { storedPayloadHash } from '../payload-hash.js';
import { checkDelegations } from './delegations.js';
import { checkUsers } from './users.js';
import { eventsOfType } from './events-of-type.js';
import { RECHECK_ROUNDS } from './event-data.js';

const PAGE = IN_LIST_SIZE;
/** Requests whose context (up to several MB each) is read at once, to hash what their grant was issued for. */
const CONTEXT_BATCH = 16;
/** The findings a row changing while verify reads it could cause, so worth a second look. */
const rechecked = (finding: StateFinding): boolean => (finding.reason === 'state_disagrees' && finding.field !== 'payload_hash') || finding.reason === 'no_event';

const REQUEST_COLUMNS = ['id', 'status', 'decided_by', 'decided_for', 'requester_name', 'action', 'resource', 'environment', 'reason', 'risk', 'rule', 'extends_jti'] as const;
const DECISION_COLUMNS = ['request_id', 'approver_name', 'decision', 'delegate_name'] as const;
const GRANT_COLUMNS = ['jti', 'request_id', 'status', 'not_before', 'expires_at', 'redeemed_at', 'revoked_at', 'revoked_by', 'payload_hash'] as const;
const EVENT_COLUMNS = ['seq', 'at', 'actor', 'type', 'request_id', 'action', 'resource', 'environment', 'data'] as const;

export interface StateCheck {
  findings: StateFinding[];
  /** Grants whose end was logged again, in the order those later ends were logged (for `endedAgainNotes`). */
  endedAgain: Map<string, LoggedGrant>;
}

async function votesOf(db: Kysely<Database>, requestIds: string[]): Promise<Map<string, DecisionRow[]>> {
  const votes = new Map<string, DecisionRow[]>();
  for (const list of inLists(requestIds)) {
    for (const row of await db.selectFrom('decisions').select(DECISION_COLUMNS).where('request_id', 'in', list).execute()) {
      const of = votes.get(row.request_id) ?? [];
      of.push(row);
      votes.set(row.request_id, of);
    }
  }
  return votes;
}

/** The events of these requests up to `upTo`, in seq order (the `audit_by_request` index). */
async function eventsOf(db: Kysely<Database>, requestIds: readonly string[], upTo: number): Promise<ReplayedEvent[]> {
  const events: ReplayedEvent[] = [];
  for (const list of inLists([...new Set(requestIds)])) {
    events.push(...(await db.selectFrom('audit_events').select(EVENT_COLUMNS).where('request_id', 'in', list).where('seq', '<=', upTo).orderBy('seq').execute()));
  }
  return events.sort((a, b) => Number(a.seq) - Number(b.seq));
}

/**
 * Replays of a page's requests, each dropped once its page is compared: only the grants logged as
 * ended again are kept, for the notes.
 */
class PageReplays {
  readonly endedAgain = new Map<string, LoggedGrant>();

  constructor(private readonly db: Kysely<Database>) {}

  async of(requestIds: readonly string[], upTo: number): Promise<StateReplay> {
    const replay = new StateReplay();
    for (const event of await eventsOf(this.db, requestIds, upTo)) replay.apply(event);
    for (const jti of replay.endedAgain) if (!this.endedAgain.has(jti)) this.endedAgain.set(jti, replay.grants.get(jti)!);
    return replay;
  }

  /** In the order their first later end was logged, as one replay of the whole log would list them. */
  ordered(): Map<string, LoggedGrant> {
    const seqOf = (grant: LoggedGrant) => grant.laterEnds?.[0]?.seq ?? 0;
    return new Map([...this.endedAgain].sort(([, a], [, b]) => seqOf(a) - seqOf(b)));
  }
}

async function compareRequests(db: Kysely<Database>, replay: StateReplay, rows: (RequestRow & SubmittedRow)[]): Promise<StateFinding[]> {
  if (rows.length === 0) return [];
  const votes = await votesOf(db, rows.map((row) => row.id));
  return rows.flatMap((row) => {
    const logged = replay.requests.get(row.id);
    return [...compareRequest(row, votes.get(row.id) ?? [], logged), ...(logged ? compareSubmission(row, logged.submitted) : [])];
  });
}

/** What each request's action, resource, environment and context hash to now, a few contexts at a time. */
async function payloadHashesOf(db: Kysely<Database>, requestIds: readonly string[]): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (let from = 0; from < requestIds.length; from += CONTEXT_BATCH) {
    const batch = requestIds.slice(from, from + CONTEXT_BATCH);
    for (const row of await db.selectFrom('requests').select(['id', 'action', 'resource', 'environment', 'context']).where('id', 'in', batch).execute()) hashes.set(row.id, storedPayloadHash(row));
  }
  return hashes;
}

/**
 * Every request, vote and grant row against the audit log, a page at a time: each page's rows are
 * held against a replay of only their requests' events (those the chain walk checked, up to
 * `walkedTo`), dropped before the next page. A row is only compared with events up to the head the
 * chain walk stopped at, so one changed while verify reads it can disagree for a moment: each
 * request that disagrees is read again with the events written since (those are past the walk, so
 * their hashes are checked by the next verify), until it agrees or has disagreed for several rounds.
 * Last, the submissions and issues in the log are paged through (each type along its index) for
 * requests and grants with no row; then the delegations and the users are held against their events.
 */
export async function checkState(db: Kysely<Database>, walkedTo: number): Promise<StateCheck> {
  const replays = new PageReplays(db);
  let found: StateFinding[] = [];

  for (let after = ''; ; ) {
    const rows = await db.selectFrom('requests').select(REQUEST_COLUMNS).where('id', '>', after).orderBy('id').limit(PAGE).execute();
    if (rows.length > 0) found.push(...(await compareRequests(db, await replays.of(rows.map((row) => row.id), walkedTo), rows)));
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.id;
  }

  // Per grant row, in jti order; a row whose request's events never issued it waits (in `astray`)
  // for the issue events below: its request_id may have been changed, or no event issued it at all.
  const grantFound: StateFinding[][] = [];
  const astray = new Map<string, { row: GrantRow; found: StateFinding[] }>();
  for (let after = ''; ; ) {
    const rows: GrantRow[] = await db.selectFrom('grants').select(GRANT_COLUMNS).where('jti', '>', after).orderBy('jti').limit(PAGE).execute();
    if (rows.length > 0) {
      const replay = await replays.of(rows.map((row) => row.request_id), walkedTo);
      // A grant moved to another request is named by its request_id, not by that request's payload.
      const issuedHere = rows.filter((row) => replay.grants.get(row.jti)?.requestId === row.request_id);
      const hashes = await payloadHashesOf(db, issuedHere.map((row) => row.request_id));
      for (const row of rows) {
        const logged = replay.grants.get(row.jti);
        const of = logged ? compareGrant(row, logged) : [];
        const requestHash = hashes.get(row.request_id);
        if (logged && requestHash !== undefined) of.push(...comparePayload(row.request_id, row.jti, requestHash, logged.payloadHash ?? row.payload_hash));
        if (!logged) astray.set(row.jti, { row, found: of });
        if (!logged || of.length > 0) grantFound.push(of);
      }
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.jti;
  }

  const missingRequests: StateFinding[] = [];
  const missingGrants: StateFinding[] = [];
  const reportedRequests = new Set<string>();
  const reportedGrants = new Set<string>();
  for await (const events of eventsOfType(db, 'request.submitted', walkedTo)) {
    const submitted = events.flatMap((event) => (event.request_id ? [event.request_id] : []));
    const rowed = new Set<string>();
    for (const list of inLists(submitted)) for (const row of await db.selectFrom('requests').select('id').where('id', 'in', list).execute()) rowed.add(row.id);
    const unrowed = submitted.filter((id) => !rowed.has(id) && !reportedRequests.has(id));
    if (unrowed.length === 0) continue;
    const replay = await replays.of(unrowed, walkedTo);
    for (const id of unrowed) {
      const logged = replay.requests.get(id);
      if (!logged || reportedRequests.has(id)) continue;
      reportedRequests.add(id);
      missingRequests.push({ reason: 'state_missing', table: 'requests', requestId: id, problem: `request ${id} (${logged.status} by its audit events) has no row: it was deleted from the database` });
    }
  }
  for await (const events of eventsOfType(db, 'grant.issued', walkedTo)) {
    const issued = events.flatMap((event) => {
      const jti = issuedJti(event.data);
      return jti ? [{ jti, requestId: event.request_id }] : [];
    });
    const rowed = new Set<string>();
    for (const list of inLists(issued.map((grant) => grant.jti))) for (const row of await db.selectFrom('grants').select('jti').where('jti', 'in', list).execute()) rowed.add(row.jti);
    const needed = issued.filter((grant) => (!rowed.has(grant.jti) && !reportedGrants.has(grant.jti)) || astray.has(grant.jti));
    if (needed.length === 0) continue;
    const replay = await replays.of(needed.flatMap((grant) => (grant.requestId ? [grant.requestId] : [])), walkedTo);
    for (const { jti } of needed) {
      const logged = replay.grants.get(jti);
      if (!logged) continue;
      const stray = astray.get(jti);
      if (stray) {
        stray.found.push(...compareGrant(stray.row, logged));
        astray.delete(jti);
      } else if (!reportedGrants.has(jti)) {
        reportedGrants.add(jti);
        missingGrants.push({ reason: 'state_missing', table: 'grants', requestId: logged.requestId, jti, problem: `grant ${jti} (${logged.status} by its audit events) has no row: it was deleted from the database` });
        missingGrants.push(...endsInLog(jti, logged.requestId, logged));
      }
    }
  }
  for (const { row, found: of } of astray.values()) of.push(...compareGrant(row, undefined));
  found.push(...grantFound.flat());

  let upTo = walkedTo;
  for (let round = 0; round < RECHECK_ROUNDS; round += 1) {
    const suspects = [...new Set(found.flatMap((finding) => (rechecked(finding) && finding.requestId ? [finding.requestId] : [])))];
    if (suspects.length === 0) break;
    const head = Number((await db.selectFrom('chain_head').select('seq').where('id', '=', 1).executeTakeFirst())?.seq ?? upTo);
    let later = 0;
    for (const list of inLists(suspects)) {
      later += (await db.selectFrom('audit_events').select('seq').where('request_id', 'in', list).where('seq', '>', upTo).where('seq', '<=', head).execute()).length;
    }
    // Nothing written since: a second look would read the same rows.
    if (later === 0) break;
    upTo = head;
    const again = new Set(suspects);
    const kept = found.filter((finding) => !finding.requestId || !again.has(finding.requestId) || !rechecked(finding));
    const fresh: StateFinding[] = [];
    for (const list of inLists(suspects)) {
      const replay = await replays.of(list, upTo);
      fresh.push(...(await compareRequests(db, replay, await db.selectFrom('requests').select(REQUEST_COLUMNS).where('id', 'in', list).execute())));
      for (const row of await db.selectFrom('grants').select(GRANT_COLUMNS).where('request_id', 'in', list).execute()) fresh.push(...compareGrant(row, replay.grants.get(row.jti)).filter(rechecked));
    }
    found = [...kept, ...fresh];
  }

  return { findings: [...found, ...missingRequests, ...missingGrants, ...(await checkDelegations(db, walkedTo)), ...(await checkUsers(db, walkedTo))], endedAgain: replays.ordered() };
}
