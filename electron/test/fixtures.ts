import type { GreenlightRequest } from '../../protocol/request.js';
import type { Me } from '../me.js';

export const NOW = new Date('2026-11-24T18:00:00.000Z');
export const ME: Me = { name: 'bob', groups: ['approvers'], roles: ['approver'] };

let counter = 0;

export function aRequest(overrides: Partial<GreenlightRequest> = {}): GreenlightRequest {
  counter += 1;
  return {
    id: `req_${counter}`,
    action: 'deploy',
    resource: 'payments-api',
    environment: 'production',
    requester: 'alice',
    reason: 'hotfix for INC-4412',
    risk: 'medium',
    context: {},
    requestedTtlSeconds: null,
    status: 'pending',
    version: 1,
    rule: {
      name: 'prod',
      approvers: ['approvers'],
      minApprovals: 1,
      allowSelfApproval: false,
      escalation: [{ afterSeconds: 300, notify: ['leads'] }],
      expireAfterSeconds: null,
      grantTtlSeconds: 900,
      claimHoldsSeconds: 600,
      autoApprove: false,
    },
    eligibleGroups: ['approvers'],
    eligibleUsers: [],
    escalationLevel: 0,
    nextEscalationAt: new Date(NOW.getTime() + 4 * 60_000).toISOString(),
    expiresAt: null,
    claim: null,
    decisions: [],
    approvals: 0,
    grant: null,
    timeline: [],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    decidedAt: null,
    decidedBy: null,
    ...overrides,
  };
}
