import type { Transaction } from 'kysely';
import { decidesFor, type FrozenRule, type GreenlightRequest, type NotificationEvent } from '../../protocol/index.js';
import { afterCommit, type Context } from '../domain/context.js';
import { delegatesReachedFor, type DelegateRecipient } from '../domain/delegate-recipients.js';
import { newId } from '../ids.js';
import type { Database, EmailActionsTable } from '../store/schema.js';
import type { RequestRecord } from '../store/requests.js';
import { outboxStore, type OutboxRecord } from '../store/outbox.js';
import { decisionStore } from '../store/decisions.js';
import { insertBatches } from '../store/insert-batches.js';
import { DIFF_LINES_IN_EMAIL, type EmailPayload } from './email-payload.js';
import { overdueReviewAudience } from './overdue-review-audience.js';
import { reachedSteps } from './event-targets.js';
import { pendingOutboxRow } from './outbox-row.js';
import { diffExcerpt } from './chat-text.js';
import { emailActionToken, emailActionTokenHash } from './email-tokens.js';
import { linkExpiry } from './email-links.js';
import { decodeRoles } from '../store/users.js';
import { activeDelegatorsOfEach, peopleByIds, type Delegator } from '../domain/deciders.js';
import { capacitiesOn, choicesToName } from '../domain/capacities.js';
import type { Actor } from '../domain/actor.js';

/** Events that ask an approver to decide, or a reviewer to look now, and so go by email. */
const EMAILED_EVENTS: ReadonlySet<NotificationEvent> = new Set(['request.created', 'request.escalated', 'request.reminded', 'request.break_glass', 'request.break_glass_overdue']);

export interface EmailedChange {
  type: NotificationEvent;
  row: RequestRecord;
  rule: FrozenRule;
  /** The escalation step that fired, for `request.escalated`. */
  step: number | null;
  data: GreenlightRequest;
  /** An urgent line (break-glass): the message tells, it asks for no decision and carries no links to decide. */
  alert: string | null;
}

interface Recipient {
  id: string;
  name: string;
  email: string;
  /** Whom each pair of links decides for (their own name first when asked themselves): empty for one unnamed pair. */
  decidesFor: string[];
}

export const needsConsole = (risk: string, rule: FrozenRule): boolean => (risk === 'high' || risk === 'critical') && rule.emailApprove !== true;

/**
 * Whom an email of this change asks, by user or group name; null: everyone the request names. An
 * escalation asks the people its step adds (those asked before hear again through `remind`). A
 * reminder asks everyone when the rule names email, else only the people of the steps that paged
 * them by email: the rule's own approvers were never asked by email.
 */
function askedByEmail(change: EmailedChange): ReadonlySet<string> | null {
  if (change.type === 'request.escalated' && change.step !== null) return new Set(change.rule.escalation[change.step]?.notify ?? []);
  if (change.type === 'request.reminded' && !change.rule.notify?.includes('email')) {
    const byEmail = reachedSteps(change.type, change.rule, change.row).filter((step) => step.channels?.includes('email'));
    return new Set(byEmail.flatMap((step) => step.notify));
  }
  if (change.type === 'request.break_glass_overdue') return overdueReviewAudience(change.rule, 'email');
  return null;
}

/**
 * Everyone who may decide the request now, has an address, and has not voted; for an escalation, only
 * the people its step adds, and for an overdue break-glass review, those who owe it and those asked to
 * chase it. The requester only where the rule allows it. Active delegates of those asked come too,
 * once each.
 */
async function recipients(trx: Transaction<Database>, change: EmailedChange, now: Date): Promise<Recipient[]> {
  const { row, rule } = change;
  const groups = row.eligible_groups;
  const users = row.eligible_users;
  if (groups.length === 0 && users.length === 0) return [];
  const found = await trx
    .selectFrom('users')
    .leftJoin('user_groups', 'user_groups.user_id', 'users.id')
    .select(['users.id', 'users.name', 'users.email', 'users.roles', 'user_groups.group_name'])
    .where('users.disabled', '=', 0)
    .where((eb) => eb.or([...(users.length ? [eb('users.name', 'in', users)] : []), ...(groups.length ? [eb('user_groups.group_name', 'in', groups)] : [])]))
    .execute();
  // Whoever voted has nothing left to do here, a delegate who voted for someone included.
  const voted = new Set(await decisionStore.voterIdsOf(trx, row.id));
  const audience = askedByEmail(change);
  // Nobody reviews their own break-glass, whatever the rule says of approving one's own requests.
  const selfAllowed = rule.allowSelfApproval && change.type !== 'request.break_glass_overdue';
  const chosen = new Map<string, Recipient>();
  const asked = new Set<string>();
  const groupsOf = new Map<string, string[]>();
  for (const user of found) if (user.group_name) groupsOf.set(user.id, [...(groupsOf.get(user.id) ?? []), user.group_name]);
  // A reminder says the request still waits for them: by the rule the app's inbox and tray go by, it
  // does not for an approver whose vote would no longer count (every `require:` line they fill is full).
  const stillWaitsOn = (user: (typeof found)[number]): boolean =>
    change.type !== 'request.reminded' || !rule.require || decidesFor(change.data, { name: user.name, groups: groupsOf.get(user.id) ?? [], roles: decodeRoles(user.roles) }).includes(user.name);
  for (const user of found) {
    if (voted.has(user.id)) continue;
    if (user.id === row.requester_id && !selfAllowed) continue;
    if (!decodeRoles(user.roles).some((role) => role !== 'requester')) continue;
    if (audience && !audience.has(user.name) && !(user.group_name && audience.has(user.group_name))) continue;
    asked.add(user.id);
    if (user.email && stillWaitsOn(user)) chosen.set(user.id, { id: user.id, name: user.name, email: user.email, decidesFor: [] });
  }
  // Someone away hands their approvals to a delegate: the delegate gets what they would have. Whom
  // they may vote for is the console's choice (capacitiesOn): only those whose vote would still count,
  // each named in its links.
  const reachable = (delegate: DelegateRecipient): delegate is DelegateRecipient & { email: string } => Boolean(delegate.email) && !voted.has(delegate.id);
  const delegates = (await delegatesReachedFor(trx, [...asked], rule.name, row.requester_id, now)).filter(reachable);
  // An alert (a break-glass use, its review overdue) asks no vote: the delegate hears it as the one they stand in for would.
  const votesAsked = change.alert === null;
  // Read for all the delegates at once, so a rule with many approvers costs no more statements than one with few.
  const people = votesAsked ? await peopleByIds(trx, delegates.map((delegate) => delegate.id)) : new Map<string, Actor>();
  const delegatorsOf = votesAsked ? await activeDelegatorsOfEach(trx, [...people.values()], now) : new Map<string, Delegator[]>();
  for (const delegate of delegates) {
    if (!votesAsked) {
      chosen.set(delegate.id, { id: delegate.id, name: delegate.name, email: delegate.email, decidesFor: [] });
      continue;
    }
    const person = people.get(delegate.id);
    if (!person) continue;
    const capacities = capacitiesOn(change.data, person, delegatorsOf.get(delegate.id) ?? []);
    // Nothing they could click would count: an approver asked themselves still hears as the others do.
    if (capacities.length === 0 && !asked.has(delegate.id)) continue;
    // A link is used later than it is made: it names whom it counts for unless that is the person themselves,
    // so a delegation gained or ended meanwhile cannot move the vote, and its page says whom it is for.
    const decidesFor = choicesToName(capacities, person.name);
    chosen.set(delegate.id, { id: delegate.id, name: delegate.name, email: delegate.email, decidesFor });
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function messageOf(change: EmailedChange, to: Recipient, timestamp: string): EmailPayload {
  const { data, rule } = change;
  const diff = data.context.diff ? diffExcerpt(data.context.diff, DIFF_LINES_IN_EMAIL) : null;
  return {
    type: change.type,
    timestamp,
    alert: change.alert,
    to: { name: to.name, address: to.email },
    decidesFor: change.alert === null ? to.decidesFor : [],
    request: {
      id: data.id,
      action: data.action,
      resource: data.resource,
      environment: data.environment,
      requester: data.requester,
      reason: data.reason,
      risk: data.risk,
      summary: data.context.summary ?? null,
      diffHead: diff?.text ?? null,
      diffMoreLines: diff?.moreLines ?? 0,
      links: data.context.links ?? [],
      nextEscalationAt: data.nextEscalationAt,
      expiresAt: data.expiresAt,
      rule: rule.name,
      consoleOnly: needsConsole(data.risk, rule),
    },
  };
}

/**
 * Writes one email row per recipient inside `trx`, with the hashes of its Approve and Deny tokens (a
 * pair for each person a delegate of several may decide for), so a message and the links in it exist
 * exactly when the change they announce does.
 */
export async function enqueueEmails(ctx: Context, trx: Transaction<Database>, change: EmailedChange): Promise<void> {
  const outbox = ctx.outbox;
  if (!outbox?.email || !EMAILED_EVENTS.has(change.type)) return;
  if (change.alert === null && change.row.status !== 'pending') return;
  const now = ctx.clock.now();
  const people = await recipients(trx, change, now);
  if (people.length === 0) return;
  const timestamp = now.toISOString();
  // Renewed when the message goes out (renewEmailLinks), however long it waits for the SMTP server.
  const expiresAt = linkExpiry(now, change.row.expires_at);
  const key = outbox.email.tokenKey;
  if (!key) throw new Error('email links need the hub keys, loaded at start');
  const rows: OutboxRecord[] = [];
  const actions: EmailActionsTable[] = [];
  for (const person of people) {
    const id = newId('ntf', now);
    rows.push(pendingOutboxRow({ id, type: change.type, channel: 'email', destination: person.name, requestId: change.row.id, payload: JSON.stringify(messageOf(change, person, timestamp)), timestamp }));
    if (change.alert !== null) continue;
    for (const onBehalfOf of person.decidesFor.length ? person.decidesFor : [null]) {
      for (const decision of ['approve', 'deny'] as const) {
        actions.push({
          token_hash: emailActionTokenHash(emailActionToken(key, id, decision, onBehalfOf)),
          notification_id: id,
          request_id: change.row.id,
          user_id: person.id,
          decision,
          on_behalf_of: onBehalfOf,
          expires_at: expiresAt,
          used_at: null,
          created_at: timestamp,
        });
      }
    }
  }
  afterCommit(trx, () => outbox.written());
  await outboxStore.insert(trx, rows);
  for (const batch of insertBatches(actions)) await trx.insertInto('email_actions').values(batch).execute();
}
