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

  it('goes to the webhooks the rule names, not to every configured one', () => {
    expect(names('request.created', rule(), null)).toEqual(['bot']);
    expect(names('request.created', rule({ notify: undefined }), null)).toEqual([]);
  });

  it('adds the escalation step\'s own channels to an escalation', () => {
    expect(names('request.escalated', rule(), 0)).toEqual(['bot', 'pager']);
  });

  it('honours each webhook\'s event filter', () => {
    expect(names('request.created', rule({ notify: ['webhook:pager'] }), null)).toEqual([]);
  });

  it('skips a webhook that has left the configuration since the request was created', () => {
    expect(names('request.created', rule({ notify: ['webhook:gone', 'webhook:bot'] }), null)).toEqual(['bot']);
  });

  it('refuses to start with a secret it cannot resolve, naming the key', () => {
    expect(() => createOutbox({ webhooks: [{ name: 'bot', url: 'https://x.example.com', secret: 'env:GREENLIGHT_TEST_UNSET_SECRET' }] }, new ManualClock(), null)).toThrow(
      'notifiers.webhooks.bot.secret: the environment variable GREENLIGHT_TEST_UNSET_SECRET is not set',
    );
    expect(() => createOutbox({ webhooks: [{ name: 'bot', url: 'https://x.example.com', secret: [secret, 'short'] }] }, new ManualClock(), null)).toThrow(/notifiers\.webhooks\.bot\.secret\[1\]: expected whsec_/);
  });
  afterAll(() => outbox.close());
});
