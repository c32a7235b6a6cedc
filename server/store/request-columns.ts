import type { FrozenRule, RequestContext, RequestStatus, Risk } from '../../protocol/index.js';
import type { RequestsTable } from './schema.js';

/**
 * The request row's encoded columns, decoded. Every one was written by the hub from a value that had
 * passed its schema (submission, policy), so it is read back as written rather than parsed again:
 * this runs for every request of a sync.
 */
export const ruleOf = (row: Pick<RequestsTable, 'rule'>): FrozenRule => JSON.parse(row.rule) as FrozenRule;
export const eligibleGroupsOf = (row: Pick<RequestsTable, 'eligible_groups'>): string[] => JSON.parse(row.eligible_groups) as string[];
export const eligibleUsersOf = (row: Pick<RequestsTable, 'eligible_users'>): string[] => JSON.parse(row.eligible_users) as string[];
export const contextOf = (row: Pick<RequestsTable, 'context'>): RequestContext => JSON.parse(row.context) as RequestContext;
export const riskOf = (row: Pick<RequestsTable, 'risk'>): Risk => row.risk as Risk;
export const statusOf = (row: Pick<RequestsTable, 'status'>): RequestStatus => row.status as RequestStatus;
