import type { Kysely } from 'kysely';
import type { AuditType } from '../../../protocol/index.js';
import type { Database, UsersTable } from '../../store/schema.js';
import { IN_LIST_SIZE } from '../../store/in-lists.js';
import { shown, type StateFinding } from './compare.js';
import { comparedUntilSettled, parseEventData, recordedText } from './event-data.js';
import { eventsOfType, type TypedEvent } from './events-of-type.js';

const PAGE = IN_LIST_SIZE;

/** The columns held against the log, each as a finding names it. */
type UserField = 'roles' | 'groups' | 'disabled' | 'email' | 'slack_user_id' | 'service' | 'oidc_subject';

/** A column's value as the latest event that set it left it, and which event that was. */
interface LoggedValue {
  value: string | null;
  seq: number;
  type: AuditType;
  actor: string;
}

type LoggedUser = Map<UserField, LoggedValue>;

type UserRow = Pick<UsersTable, 'id' | 'name' | 'roles' | 'disabled' | 'email' | 'slack_user_id' | 'service' | 'oidc_subject'>;


const flag = (on: boolean): string => (on ? '1' : '0');

/** Roles and groups compared as sets: JSON text of the names, sorted, each once; anything else as it is. */
function listText(value: unknown): string | null {
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      return Array.isArray(parsed) ? listText(parsed) : value;
    } catch {
      return value;
    }
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return null;
  return JSON.stringify([...new Set(value)].sort());
}

/**
 * Each user's columns as their events leave them, by name (users are never renamed; events name
 * them, not their ids). Every hub since the first has written `user.created` with the roles and
 * groups, in the transaction that made the user, the bootstrap admin included, and has recorded
 * email, Slack member and service flag there (when set) since those columns exist: a field a
 * creation lacks was empty. The identity provider's subject is the exception: hubs linked it
 * unrecorded until 2026-12-20, and the upgrade to that version recorded every subject then held
 * (`user.updated` with source `upgrade`), so since then every subject has an event that set it. `user.updated` names what changed (`changes.<field>.to`); one with no
 * changes (`outcome: kept`, a sign-in that left an admin their role) changes nothing. Each column
 * takes its value from the latest event that set it, so the types are read one at a time along
 * their index. Users are few, so all of them are held at once.
 */
async function loggedUsers(db: Kysely<Database>, upTo: number): Promise<Map<string, LoggedUser>> {
  const logged = new Map<string, LoggedUser>();
  const set = (user: LoggedUser, field: UserField, value: string | null, event: TypedEvent, type: AuditType) => {
    const seq = Number(event.seq);
    if ((user.get(field)?.seq ?? 0) < seq) user.set(field, { value, seq, type, actor: event.actor });
  };
  for await (const events of eventsOfType(db, 'user.created', upTo)) {
    for (const event of events) {
      const data = parseEventData(event.data);
      const name = recordedText(data.user);
      if (!name) continue;
      const user: LoggedUser = logged.get(name) ?? new Map();
      logged.set(name, user);
      set(user, 'roles', listText(data.roles), event, 'user.created');
      set(user, 'groups', listText(data.groups ?? []), event, 'user.created');
      set(user, 'disabled', flag(false), event, 'user.created');
      set(user, 'email', recordedText(data.email), event, 'user.created');
      set(user, 'slack_user_id', recordedText(data.slackUserId), event, 'user.created');
      set(user, 'service', flag(data.service === true), event, 'user.created');
      // A first sign-in through a hub from before subjects were recorded (one still running during a
      // rolling upgrade, after the upgrade recorded those already linked) says nothing of the subject.
      set(user, 'oidc_subject', data.source === 'oidc' && !('oidcSubject' in data) ? UNRECORDED_SUBJECT : recordedText(data.oidcSubject), event, 'user.created');
    }
  }
  // Every change comes after its user's creation, so the changes are read once all creations are known.
  const changed: [AuditType, (user: LoggedUser, data: Record<string, unknown>, event: TypedEvent) => void][] = [
    [
      'user.updated',
      (user, data, event) => {
        const changes = data.changes && typeof data.changes === 'object' ? (data.changes as Record<string, unknown>) : {};
        const to = (key: string): { value: unknown } | null => {
          const change = changes[key];
          return change && typeof change === 'object' && 'to' in change ? { value: (change as { to: unknown }).to } : null;
        };
        const roles = to('roles');
        const groups = to('groups');
        const email = to('email');
        const slack = to('slackUserId');
        const subject = to('oidcSubject');
        if (roles) set(user, 'roles', listText(roles.value), event, 'user.updated');
        if (groups) set(user, 'groups', listText(groups.value), event, 'user.updated');
        if (email) set(user, 'email', recordedText(email.value), event, 'user.updated');
        if (slack) set(user, 'slack_user_id', recordedText(slack.value), event, 'user.updated');
        if (subject) set(user, 'oidc_subject', recordedText(subject.value), event, 'user.updated');
      },
    ],
    ['user.disabled', (user, _data, event) => set(user, 'disabled', flag(true), event, 'user.disabled')],
    ['user.enabled', (user, _data, event) => set(user, 'disabled', flag(false), event, 'user.enabled')],
  ];
  for (const [type, apply] of changed) {
    for await (const events of eventsOfType(db, type, upTo)) {
      for (const event of events) {
        const data = parseEventData(event.data);
        const user = logged.get(recordedText(data.user) ?? '');
        if (user) apply(user, data, event);
      }
    }
  }
  return logged;
}

const rowValue = (row: UserRow, groups: readonly string[], field: UserField): string | null => {
  switch (field) {
    case 'roles':
      return listText(row.roles);
    case 'groups':
      return listText(groups);
    case 'disabled':
      return flag(Number(row.disabled) === 1);
    case 'service':
      return flag(Number(row.service) === 1);
    case 'email':
      return row.email ?? null;
    case 'slack_user_id':
      return row.slack_user_id ?? null;
    case 'oidc_subject':
      return row.oidc_subject ?? null;
  }
};

/** The subject of a user an older hub's sign-in made: unknown to the log, so not held against the row until an event sets it. */
const UNRECORDED_SUBJECT = '\u0000unrecorded';

const FIELDS: readonly UserField[] = ['roles', 'groups', 'disabled', 'email', 'slack_user_id', 'service', 'oidc_subject'];

function compareUser(row: UserRow, groups: readonly string[], logged: LoggedUser | undefined): StateFinding[] {
  const base = { table: 'users' as const, requestId: null, user: row.name, userId: row.id };
  if (!logged) {
    return [{ ...base, reason: 'no_event', problem: `user ${row.name} (${row.id}, roles ${listText(row.roles) ?? row.roles}) has no user.created event: it was written into the database by hand` }];
  }
  const findings: StateFinding[] = [];
  for (const field of FIELDS) {
    const log = logged.get(field);
    const state = rowValue(row, groups, field);
    if (!log || state === log.value || log.value === UNRECORDED_SUBJECT) continue;
    const event = `event ${log.seq}, ${log.type} by ${log.actor}`;
    findings.push({ ...base, reason: 'state_disagrees', field, state, log: log.value, problem: `user ${row.name} (${row.id}): ${field} is ${shown(state)} but its audit events say ${shown(log.value)} (${event})` });
  }
  return findings;
}

async function compareAll(db: Kysely<Database>, upTo: number): Promise<StateFinding[]> {
  const logged = await loggedUsers(db, upTo);
  const found: StateFinding[] = [];
  for (let after = ''; ; ) {
    const rows: UserRow[] = await db
      .selectFrom('users')
      .select(['id', 'name', 'roles', 'disabled', 'email', 'slack_user_id', 'service', 'oidc_subject'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    const groups = new Map<string, string[]>();
    if (rows.length > 0) {
      const memberships = await db
        .selectFrom('user_groups')
        .select(['user_id', 'group_name'])
        .where('user_id', 'in', rows.map((row) => row.id))
        .execute();
      for (const { user_id: id, group_name: group } of memberships) groups.set(id, [...(groups.get(id) ?? []), group]);
    }
    for (const row of rows) {
      found.push(...compareUser(row, groups.get(row.id) ?? [], logged.get(row.name)));
      logged.delete(row.name);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.id;
  }
  for (const [name, user] of logged) {
    const status = user.get('disabled')?.value === '1' ? 'disabled' : 'active';
    found.push({ reason: 'state_missing', table: 'users', requestId: null, user: name, problem: `user ${name} (${status}, roles ${user.get('roles')?.value ?? '?'}, by its audit events) has no row: it was deleted from the database` });
  }
  return found;
}

/**
 * Every user row, with its groups, against the `user.*` events up to `walkedTo`: roles, groups,
 * disabled, email, Slack member, service flag and single sign-on subject, the columns those events
 * record. Who may approve follows roles and groups, and a sign-in finds its user by subject, so a row
 * changed by hand hands out power no event gave. One changed while
 * verify reads can disagree for a moment: while any disagrees and events were written since, all are
 * read again up to the new head (they are few).
 */
export async function checkUsers(db: Kysely<Database>, walkedTo: number): Promise<StateFinding[]> {
  return comparedUntilSettled(db, walkedTo, compareAll);
}
