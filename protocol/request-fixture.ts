import type { GreenlightRequest } from './request.js';

/**
 * For tests of the clients (renderer, desktop shell): a pending request as the hub sends it, with
 * no decisions, grant or timeline yet. Override what a test cares about. Not part of the contract.
 */
export function requestFixture(overrides: Partial<GreenlightRequest> = {}): GreenlightRequest {
  return {
    id: 'req_1',
    action: 'deploy',
    resource: 'api',
    environment: 'production',
    requester: 'alice',
    reason: 'ship the fix',
    risk: 'medium',
    context: {},
    requestedTtlSeconds: null,
    status: 'pending',
    version: 1,
    rule: {
      name: 'prod',
      approvers: ['sre'],
      minApprovals: 1,
      allowSelfApproval: false,
      escalation: [],
      expireAfterSeconds: 3600,
      grantTtlSeconds: 900,
      claimHoldsSeconds: 600,
      autoApprove: false,
    },
    eligibleGroups: ['sre'],
    eligibleUsers: [],
    escalationLevel: 0,
    nextEscalationAt: null,
    expiresAt: '2026-01-01T01:00:00.000Z',
    claim: null,
    decisions: [],
    approvals: 0,
    grant: null,
    timeline: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    decidedAt: null,
    decidedBy: null,
    ...overrides,
  };
}
