import type { Transaction } from 'kysely';
import type { FrozenRule } from '../../../protocol/index.js';
import { newId } from '../../ids.js';
import type { Database, DeadlinesTable, RequestsTable } from '../../store/schema.js';

export type DeadlineKind = 'escalation' | 'expiry' | 'grant_expiry' | 'claim_end';

const addSeconds = (iso: string, seconds: number) => new Date(new Date(iso).getTime() + seconds * 1000).toISOString();

/** Writes one deadline per escalation step and one for expiry; returns their due times. */
export async function scheduleRequestDeadlines(trx: Transaction<Database>, row: RequestsTable, rule: FrozenRule, now: Date): Promise<string[]> {
  const rows: DeadlinesTable[] = rule.escalation.map((step, index) => ({
    id: newId('ddl', now),
    kind: 'escalation',
    request_id: row.id,
    grant_jti: null,
    step: index,
    due_at: addSeconds(row.created_at, step.afterSeconds),
    done: 0,
  }));
  if (rule.expireAfterSeconds) {
    rows.push({ id: newId('ddl', now), kind: 'expiry', request_id: row.id, grant_jti: null, step: null, due_at: addSeconds(row.created_at, rule.expireAfterSeconds), done: 0 });
  }
  if (rows.length) await trx.insertInto('deadlines').values(rows).execute();
  return rows.map((r) => r.due_at);
}

/** A decided request needs none of its request deadlines any more (grant expiry stays). */
export async function closeDeadlines(trx: Transaction<Database>, requestId: string): Promise<void> {
  await trx.updateTable('deadlines').set({ done: 1 }).where('request_id', '=', requestId).where('kind', '!=', 'grant_expiry').where('done', '=', 0).execute();
}

export async function addDeadline(trx: Transaction<Database>, deadline: Omit<DeadlinesTable, 'id' | 'done'>, now: Date): Promise<void> {
  await trx.insertInto('deadlines').values({ ...deadline, id: newId('ddl', now), done: 0 }).execute();
}

/** When an escalation step was meant to fire, from the frozen rule. */
export function stepDueAt(row: RequestsTable, rule: FrozenRule, step: number): string | null {
  const entry = rule.escalation[step];
  return entry ? addSeconds(row.created_at, entry.afterSeconds) : null;
}
