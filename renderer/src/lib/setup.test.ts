import { describe, expect, it } from 'vitest';
import type { SetupStatus } from '../../../protocol/setup.js';
import { firstRequestCommand, setupNeeds } from './setup.js';

const status = (active: number, groups: [string, string[]][]): SetupStatus => ({
  policy: { source: 'file', file: '/etc/greenlight/policy.yaml', rules: groups.length },
  users: { active, total: active },
  approverGroups: groups.map(([group, approvers]) => ({ group, rules: ['r'], approvers })),
});

describe('what a new hub still needs', () => {
  it('says so while the admin is alone or an approver group is empty, and nothing once both are fixed', () => {
    expect(setupNeeds(status(1, [['approvers', ['admin']]]))).toEqual({ alone: true, unstaffed: [] });
    expect(setupNeeds(status(3, [['sre', ['bob']], ['dba', []], ['oncall', []]]))).toEqual({ alone: false, unstaffed: ['dba', 'oncall'] });
    expect(setupNeeds(status(3, [['sre', ['bob']]]))).toBeNull();
  });

  it('suggests a first request the policy names, or a plain one', () => {
    const offer = { rule: 'prod', actions: ['restart'], environments: ['production'], resources: [], autoApprove: false, minApprovals: 1, grantTtlSeconds: 600 };
    expect(firstRequestCommand([{ ...offer, actions: [] }, offer])).toBe('greenlight request --action restart --resource my-service --env production --reason "first try" --wait');
    expect(firstRequestCommand([])).toBe('greenlight request --action deploy --resource my-service --env staging --reason "first try" --wait');
  });
});
