import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { IN_LIST_SIZE, inLists } from '../../store/in-lists.js';
import { compareGrant, compareRequest, endsInLog, type DecisionRow, type GrantRow, type RequestRow, type StateFinding } from './compare.js';
import type { StateReplay } from './replay.js';

const PAGE = IN_LIST_SIZE;
/** Rounds of re-reading a request that disagreed, for one still changing while verify reads it. */
const RECHECK_ROUNDS = 5;

const REQUEST_COLUMNS = ['id', 'status', 'decided_by', 'decided_for'] as const;
const DECISION_COLUMNS = ['request_id', 'approver_name', 'decision', 'delegate_name'] as const;
const GRANT_COLUMNS = ['jti', 'request_id', 'status', 'not_before', 'expires_at', 'redeemed_at', 'revoked_at', 'revoked_by'] as const;

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

async function compareRequests(db: Kysely<Database>, replay: StateReplay, rows: RequestRow[]): Promise<StateFinding[]> {
  if (rows.length === 0) return [];
  const votes = await votesOf(db, rows.map((row) => row.id));
  return rows.flatMap((row) => {
    const logged = replay.requests.get(row.id);
    if (logged) logged.hasRow = true;
    return compareRequest(row, votes.get(row.id) ?? [], logged);
  });
}

/**
 * Every request, vote and grant row against the replayed log, read a page at a time. A row is only
 * compared with events up to the head the chain walk stopped at, so one changed while verify reads
 * it can disagree for a moment: each request that disagrees is read again with the events written
 * since (those are past the walk, so their hashes are checked by the next verify), until it agrees
 * or has disagreed for several rounds.
 */
export async function checkState(db: Kysely<Database>, replay: StateReplay, walkedTo: number): Promise<StateFinding[]> {
  let found: StateFinding[] = [];

  for (let after = ''; ; ) {
    const rows = await db.selectFrom('requests').select(REQUEST_COLUMNS).where('id', '>', after).orderBy('id').limit(PAGE).execute();
    found.push(...(await compareRequests(db, replay, rows)));
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.id;
  }
  for (let after = ''; ; ) {
    const rows: GrantRow[] = await db.selectFrom('grants').select(GRANT_COLUMNS).where('jti', '>', after).orderBy('jti').limit(PAGE).execute();
    for (const row of rows) {
      const logged = replay.grants.get(row.jti);
      if (logged) logged.hasRow = true;
      found.push(...compareGrant(row, logged));
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.jti;
  }

  let upTo = walkedTo;
  for (let round = 0; round < RECHECK_ROUNDS; round += 1) {
    const suspects = [...new Set(found.flatMap((finding) => (finding.reason === 'state_disagrees' || finding.reason === 'no_event') && finding.requestId ? [finding.requestId] : []))];
    if (suspects.length === 0) break;
    const head = Number((await db.selectFrom('chain_head').select('seq').where('id', '=', 1).executeTakeFirst())?.seq ?? upTo);
    const later = [];
    for (const list of inLists(suspects)) {
      later.push(...(await db.selectFrom('audit_events').select(['seq', 'at', 'actor', 'type', 'request_id', 'data']).where('request_id', 'in', list).where('seq', '>', upTo).where('seq', '<=', head).execute()));
    }
    // Nothing written since: a second look would read the same rows.
    if (later.length === 0) break;
    upTo = head;
    for (const event of later.sort((a, b) => Number(a.seq) - Number(b.seq))) replay.apply(event);
    const again = new Set(suspects);
    const kept = found.filter((finding) => !finding.requestId || !again.has(finding.requestId) || (finding.reason !== 'state_disagrees' && finding.reason !== 'no_event'));
    const fresh: StateFinding[] = [];
    for (const list of inLists(suspects)) {
      fresh.push(...(await compareRequests(db, replay, await db.selectFrom('requests').select(REQUEST_COLUMNS).where('id', 'in', list).execute())));
      for (const row of await db.selectFrom('grants').select(GRANT_COLUMNS).where('request_id', 'in', list).execute()) fresh.push(...compareGrant(row, replay.grants.get(row.jti)).filter((finding) => finding.reason !== 'redeemed_twice' && finding.reason !== 'ended_twice'));
    }
    found = [...kept, ...fresh];
  }

  for (const [id, logged] of replay.requests) {
    if (!logged.hasRow) found.push({ reason: 'state_missing', table: 'requests', requestId: id, problem: `request ${id} (${logged.status} by its audit events) has no row: it was deleted from the database` });
  }
  for (const [jti, logged] of replay.grants) {
    if (logged.hasRow) continue;
    found.push({ reason: 'state_missing', table: 'grants', requestId: logged.requestId, jti, problem: `grant ${jti} (${logged.status} by its audit events) has no row: it was deleted from the database` });
    found.push(...endsInLog(jti, logged.requestId, logged));
  }
  return found;
}
