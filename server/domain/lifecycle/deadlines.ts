import type { Transaction } from 'kysely';
import type { FrozenRule } from '../../../protocol/index.js';
import { newId } from '../../ids.js';
import type { Database } from '../../store/schema.js';
import type { RequestRecord } from '../../store/requests.js';
import { deadlineStore, type NewRequestDeadline } from '../../store/deadlines.js';

export type { DeadlineKind } from '../../store/deadlines.js';

const addSeconds = (iso: string, seconds: number) => new Date(new Date(iso).getTime() + seconds * 1000).toISOString();

/**
 * Writes one deadline per escalation step of every run of the chain (`repeat` adds runs; a step's
 * `step` counts across runs), the first reminder, and the expiry; returns their due times.
 */
export async function scheduleRequestDeadlines(trx: Transaction<Database>, row: RequestRecord, rule: FrozenRule, now: Date): Promise<string[]> {
  const rows: NewRequestDeadline[] = [];
  for (let step = 0; ; step++) {
    const due = stepDueAt(row, rule, step);
    if (!due) break;
    rows.push({ id: newId('ddl', now), kind: 'escalation', requestId: row.id, grantJti: null, step, dueAt: due });
  }
  if (rule.remindSeconds) {
    rows.push({ id: newId('ddl', now), kind: 'reminder', requestId: row.id, grantJti: null, step: 1, dueAt: addSeconds(row.created_at, rule.remindSeconds) });
  }
  if (rule.expireAfterSeconds) {
    rows.push({ id: newId('ddl', now), kind: 'expiry', requestId: row.id, grantJti: null, step: null, dueAt: addSeconds(row.created_at, rule.expireAfterSeconds) });
  }
  await deadlineStore.insert(trx, rows);
  return rows.map((r) => r.dueAt);
}

/** A decided request needs none of its request deadlines any more (its grant's stay). */
export async function closeDeadlines(trx: Transaction<Database>, requestId: string): Promise<void> {
  await deadlineStore.closeOfRequestExcept(trx, requestId, ['grant_expiry', 'grant_expiring']);
}

export async function addDeadline(trx: Transaction<Database>, deadline: Omit<NewRequestDeadline, 'id'>, now: Date): Promise<void> {
  await deadlineStore.insert(trx, [{ ...deadline, id: newId('ddl', now) }]);
}

/** The end of a delegation's window, when the claims it alone backed are released (see `runOutDelegation`). */
export async function scheduleDelegationEnd(trx: Transaction<Database>, delegation: { id: string; endsAt: string }, now: Date): Promise<void> {
  await deadlineStore.insert(trx, [{ id: newId('ddl', now), kind: 'delegation_end', delegationId: delegation.id, dueAt: delegation.endsAt }]);
}

/**
 * When an escalation step was meant to fire, from the frozen rule. `step` counts across runs of the
 * chain: run r of n steps holds steps r·n … r·n + n − 1, and starts where the previous run's last step
 * fired, so each run keeps the chain's own spacing.
 */
export function stepDueAt(row: RequestRecord, rule: FrozenRule, step: number): string | null {
  const { round, index } = stepOf(rule, step);
  const entry = rule.escalation[index];
  const last = rule.escalation[rule.escalation.length - 1];
  if (!entry || !last || round > (rule.repeat ?? 0)) return null;
  return addSeconds(row.created_at, round * last.afterSeconds + entry.afterSeconds);
}

/** Which run of the chain a step counted across runs falls in, and which of the rule's steps it is. */
export function stepOf(rule: FrozenRule, step: number): { round: number; index: number } {
  const steps = Math.max(1, rule.escalation.length);
  return { round: Math.floor(step / steps), index: step % steps };
}
