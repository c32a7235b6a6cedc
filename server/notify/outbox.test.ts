import { afterAll, describe, expect, it } from 'vitest';
import type { FrozenRule } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { createOutbox } from './outbox.js';

const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const rule = (overrides: Partial<FrozenRule> = {}): FrozenRule => ({
  name: 'prod',
  approvers: ['sre'],
  minApprovals: 1,
  allowSelfApproval: false,
  escalation: [{ afterSeconds: 300, notify: ['leads'], channels: ['webhook:pager', 'email'] }],
  expireAfterSeconds: null,
  grantTtlSeconds: 900,
  claimHoldsSeconds: 600,
  autoApprove: false,
  notify: ['webhook:bot', 'email'],
  ...overrides,
});

describe('where an event goes', () => {
  const outbox = createOutbox(
    {
      webhooks: [
        { name: 'bot', url: 'https://bot.example.com/hook', secret },
        { name: 'pager', url: 'https://pager.example.com/hook', secret, events: ['request.escalated'] },
        { name: 'audit', url: 'https://audit.example.com/hook', secret },
      ],
    },
    new ManualClock(),
    null,
  );
  const names = (...args: Parameters<typeof outbox.destinationsFor>) => outbox.destinationsFor(...args).map((endpoint) => endpoint.name);
  /** A request `level` steps up its chain (in run `round`), whose approvers are now `eligible`. */
  const at = (level = 0, eligible: string[] = ['sre'], round = 0) => ({ escalation_level: level, escalation_round: round, eligible_groups: eligible, eligible_users: [] });

  it('goes to the webhooks the rule names, not to every configured one', () => {
    expect(names('request.created', rule(), at())).toEqual(['bot']);
    expect(names('request.created', rule({ notify: undefined }), at())).toEqual([]);
  });

  it('adds the escalation step\'s own channels to an escalation', () => {
    expect(names('request.escalated', rule(), at(1, ['sre', 'leads']))).toEqual(['bot', 'pager']);
  });

  it('reminds on the channels of the steps that paged someone, once they have', () => {
    const paging = rule({ escalation: [{ afterSeconds: 300, notify: ['leads'], channels: ['webhook:audit'] }] });
    expect(names('request.reminded', paging, at())).toEqual(['bot']);
    expect(names('request.reminded', paging, at(1, ['sre', 'leads']))).toEqual(['bot', 'audit']);
    // The chain ran again from its first step: the leads were paged in the run before.
    expect(names('request.reminded', paging, at(0, ['sre', 'leads'], 1))).toEqual(['bot', 'audit']);
    // Passed with nobody in leads to page: nobody there to remind.
    expect(names('request.reminded', paging, at(1, ['sre']))).toEqual(['bot']);
  });

  it('honours each webhook\'s event filter', () => {
    expect(names('request.created', rule({ notify: ['webhook:pager'] }), at())).toEqual([]);
  });

  it('skips a webhook that has left the configuration since the request was created', () => {
    expect(names('request.created', rule({ notify: ['webhook:gone', 'webhook:bot'] }), at())).toEqual(['bot']);
  });

  it('refuses to start with a secret it cannot resolve, naming the key', () => {
    expect(() => createOutbox({ webhooks: [{ name: 'bot', url: 'https://x.example.com', secret: 'env:GREENLIGHT_TEST_UNSET_SECRET' }] }, new ManualClock(), null)).toThrow(
      'notifiers.webhooks.bot.secret: the environment variable GREENLIGHT_TEST_UNSET_SECRET is not set',
    );
    expect(() => createOutbox({ webhooks: [{ name: 'bot', url: 'https://x.example.com', secret: [secret, 'short'] }] }, new ManualClock(), null)).toThrow(/notifiers\.webhooks\.bot\.secret\[1\]: expected whsec_/);
  });
  afterAll(() => outbox.close());
});
