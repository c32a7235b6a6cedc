import { describe, expect, it } from 'vitest';
import { parsePolicy } from './policy.js';
import { policyDigest } from './policy-digest.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
`;

/** The same rules written differently: a comment, other indentation and spacing, keys in another order, 300s for 5m. */
const REFORMATTED = `# production deploys need an SRE
rules:
    -   approvers:   [ sre ]
        escalation:
            - notify: [leads]
              after: 300s
        match:
            environment: production
            action: deploy
        name: prod
`;

const digestOf = (text: string) => policyDigest(parsePolicy(text));

describe('the policy digest', () => {
  it('is the same for the same rules however they are written', () => {
    expect(digestOf(REFORMATTED)).toBe(digestOf(POLICY));
    expect(digestOf(POLICY)).toMatch(/^[0-9a-f]{64}$/);
  });

  // Hubs on one database compare digests, so one upgraded must give the same digest for the same rules as one not yet upgraded.
  it('is the digest earlier versions gave for the same rules', () => {
    expect(digestOf(POLICY)).toBe('cb38ad729310d53f2d94d988aadf963e0a767f637c7d96f554812a6c3f7d1acc');
  });

  it('changes when a rule names another approver group', () => {
    expect(digestOf(POLICY.replace('approvers: [sre]', 'approvers: [dba]'))).not.toBe(digestOf(POLICY));
  });

  it('changes when a rule asks for more approvals or escalates later', () => {
    expect(digestOf(`${POLICY}    minApprovals: 2\n`)).not.toBe(digestOf(POLICY));
    expect(digestOf(POLICY.replace('after: 5m', 'after: 10m'))).not.toBe(digestOf(POLICY));
  });
});
