import type { GreenlightRequest } from '../../protocol/request.js';
import { requestFixture } from '../../protocol/request-fixture.js';
import type { Me } from '../me.js';

export const NOW = new Date('2026-11-24T18:00:00.000Z');
export const ME: Me = { name: 'bob', groups: ['approvers'], roles: ['approver'] };

let counter = 0;

/** A pending request for ME's group, created at NOW, escalating in four minutes; each with a new id. */
export function aRequest(overrides: Partial<GreenlightRequest> = {}): GreenlightRequest {
  counter += 1;
  const base = requestFixture();
  return requestFixture({
    id: `req_${counter}`,
    resource: 'payments-api',
    reason: 'hotfix for INC-4412',
    rule: { ...base.rule, approvers: ['approvers'], escalation: [{ afterSeconds: 300, notify: ['leads'] }], expireAfterSeconds: null },
    eligibleGroups: ['approvers'],
    nextEscalationAt: new Date(NOW.getTime() + 4 * 60_000).toISOString(),
    expiresAt: null,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    ...overrides,
  });
}
