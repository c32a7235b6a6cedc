import type { Kysely } from 'kysely';
import type { Database, DelegationsTable } from '../../store/schema.js';
import { IN_LIST_SIZE } from '../../store/in-lists.js';
import { sameMoment, shown, type StateFinding } from './compare.js';
import { comparedUntilSettled, parseEventData, recordedText } from './event-data.js';
import { eventsOfType } from './events-of-type.js';

const PAGE = IN_LIST_SIZE;

/** What a delegation's events say its row holds. */
interface LoggedDelegation {
  from: string | null;
  to: string | null;
  startsAt: string | null;
  endsAt: string | null;
  /** The rule names as JSON text (the row's form), or null for every rule. */
  rules: string | null;
  reason: string | null;
  createdBy: string;
  endedAt: string | null;
  endedBy: string | null;
}

type DelegationRow = Omit<DelegationsTable, 'created_at'> & { from_user: string | null; to_user: string | null };



/** Rule lists compared as the row stores them: JSON text of the names, null for every rule. */
function rulesText(value: unknown): string | null {
  if (typeof value === 'string') {
    try {
      return rulesText(JSON.parse(value));
    } catch {
      return value;
    }
  }
  return Array.isArray(value) ? JSON.stringify(value) : null;
}

/**
 * Every delegation the log records, by id (`delegation.expired` only notes that a span ran out: the
 * row keeps no end for it). Delegations are made by hand, a few per person a month, so
 * all of them are held at once (small records), unlike requests, which are replayed a page at a time.
 */
async function loggedDelegations(db: Kysely<Database>, upTo: number): Promise<Map<string, LoggedDelegation>> {
  const logged = new Map<string, LoggedDelegation>();
  for await (const events of eventsOfType(db, 'delegation.created', upTo)) {
    for (const event of events) {
      const data = parseEventData(event.data);
      const id = recordedText(data.delegation);
      if (!id) continue;
      logged.set(id, {
        from: recordedText(data.from),
        to: recordedText(data.to),
        startsAt: recordedText(data.startsAt),
        endsAt: recordedText(data.endsAt),
        rules: rulesText(data.rules),
        reason: recordedText(data.reason),
        createdBy: event.actor,
        endedAt: null,
        endedBy: null,
      });
    }
  }
  // Every end comes after its creation, so the ends are read once all creations are known.
  for await (const events of eventsOfType(db, 'delegation.ended', upTo)) {
    for (const event of events) {
      const delegation = logged.get(recordedText(parseEventData(event.data).delegation) ?? '');
      // Only one end is logged: a second end finds the row ended and writes nothing.
      if (delegation && delegation.endedAt === null) {
        delegation.endedAt = event.at;
        delegation.endedBy = event.actor;
      }
    }
  }
  return logged;
}

const fromTo = (from: string | null, to: string | null) => `${from ?? '?'} to ${to ?? '?'}`;

function compareDelegation(row: DelegationRow, logged: LoggedDelegation | undefined): StateFinding[] {
  const base = { table: 'delegations' as const, requestId: null, delegation: row.id };
  if (!logged) return [{ ...base, reason: 'no_event', problem: `delegation ${row.id} (${fromTo(row.from_name, row.to_name)}) has no delegation.created event: it was written into the database by hand` }];
  const findings: StateFinding[] = [];
  const differs = (field: string, state: string | null, log: string | null) =>
    findings.push({ ...base, reason: 'state_disagrees', field, state, log, problem: `delegation ${row.id}: ${field} is ${shown(state)} but its audit events say ${shown(log)}` });
  // Users are never renamed: the user an id names is the one the event named. A field an event lacks is not compared.
  const pairs: [string, string | null, string | null][] = [
    ['from_name', row.from_name, logged.from],
    ['from_id', row.from_user, logged.from],
    ['to_name', row.to_name, logged.to],
    ['to_id', row.to_user, logged.to],
    ['starts_at', row.starts_at, logged.startsAt],
    ['ends_at', row.ends_at, logged.endsAt],
    ['reason', row.reason, logged.reason],
  ];
  for (const [field, state, log] of pairs) if (log !== null && state !== log) differs(field, state, log);
  if (rulesText(row.rules) !== logged.rules) differs('rules', row.rules, logged.rules);
  if (row.created_by !== logged.createdBy) differs('created_by', row.created_by, logged.createdBy);
  if (!sameMoment(row.ended_at, logged.endedAt)) differs('ended_at', row.ended_at, logged.endedAt);
  if ((row.ended_by ?? null) !== logged.endedBy) differs('ended_by', row.ended_by, logged.endedBy);
  return findings;
}

async function compareAll(db: Kysely<Database>, upTo: number): Promise<StateFinding[]> {
  const logged = await loggedDelegations(db, upTo);
  const found: StateFinding[] = [];
  for (let after = ''; ; ) {
    const rows: DelegationRow[] = await db
      .selectFrom('delegations')
      .leftJoin('users as from_user', 'from_user.id', 'delegations.from_id')
      .leftJoin('users as to_user', 'to_user.id', 'delegations.to_id')
      .select([
        'delegations.id',
        'delegations.from_id',
        'delegations.from_name',
        'delegations.to_id',
        'delegations.to_name',
        'delegations.starts_at',
        'delegations.ends_at',
        'delegations.rules',
        'delegations.reason',
        'delegations.created_by',
        'delegations.ended_at',
        'delegations.ended_by',
        'from_user.name as from_user',
        'to_user.name as to_user',
      ])
      .where('delegations.id', '>', after)
      .orderBy('delegations.id')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      found.push(...compareDelegation(row, logged.get(row.id)));
      logged.delete(row.id);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.id;
  }
  for (const [id, delegation] of logged) {
    found.push({ reason: 'state_missing', table: 'delegations', requestId: null, delegation: id, problem: `delegation ${id} (${fromTo(delegation.from, delegation.to)}) has no row: it was deleted from the database` });
  }
  return found;
}

/**
 * Every delegation row against the `delegation.created` and `delegation.ended` events up to `walkedTo`.
 * One created or ended while verify reads can disagree for a moment: while any disagrees and events were
 * written since, all are read again up to the new head (they are few).
 */
export async function checkDelegations(db: Kysely<Database>, walkedTo: number): Promise<StateFinding[]> {
  return comparedUntilSettled(db, walkedTo, compareAll);
}
