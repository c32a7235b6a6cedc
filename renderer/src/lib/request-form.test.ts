import { describe, expect, it } from 'vitest';
import { buildNewRequest, emptyForm, offeredActions, offeredEnvironments, parseLinks, refusalErrors } from './request-form.js';
import { formatTime } from './time.js';

const valid = { ...emptyForm, action: 'deploy', environment: 'production', resource: 'api', reason: 'ship it' };

describe('buildNewRequest', () => {
  it('builds a request the contract accepts', () => {
    const { input, errors } = buildNewRequest({ ...valid, ttl: '15m', diff: '+a', links: 'PR https://example.com/pr/1' });
    expect(errors).toEqual({});
    expect(input).toMatchObject({ action: 'deploy', requestedTtlSeconds: 900, context: { diff: '+a', links: [{ title: 'PR', url: 'https://example.com/pr/1' }] } });
  });

  it('puts each schema message on its field', () => {
    const { input, errors } = buildNewRequest({ ...valid, reason: '  ', resource: 'has space', ttl: 'soon', links: 'bad javascript:alert(1)' });
    expect(input).toBeNull();
    expect(errors.reason).toBe('say why you need this');
    expect(errors.resource).toBe('must not contain spaces');
    expect(errors.ttl).toMatch(/duration/);
    expect(errors.links).toMatch(/^link 1: must be an http/);
  });

  it('marks a field holding a direction control or a terminal escape, as the hub would refuse it, and keeps a diff as written', () => {
    const { input, errors } = buildNewRequest({ ...valid, reason: 'routine \u202Eyalp-on', summary: 'ok\u001b[2K', diff: '+x = "a\u202Eb"' });
    expect(input).toBeNull();
    expect(errors.reason).toMatch(/^contains U\+202E, which changes the direction/);
    expect(errors.diff).toBeUndefined();
    expect(buildNewRequest({ ...valid, diff: '+x = "a\u202Eb"' }).errors).toEqual({});
  });
});

describe('refusalErrors', () => {
  const latest = '2026-12-14T11:02:00.000Z';
  it('puts the hub\'s refusal of a start beside the Start field, in local time', () => {
    const errors = refusalErrors({ code: 'INVALID_INPUT', message: `Invalid request: notBefore: must be at most 7d ahead (the rule's maxScheduleAhead); latest is ${latest}` });
    expect(errors).toEqual({ start: `must be at most 7d ahead (the rule's maxScheduleAhead); latest is ${formatTime(latest)}` });
    expect(refusalErrors({ code: 'OUTSIDE_WINDOW', message: `Rule "db" allows access only inside its windows; the next window starts at ${latest}` })).toEqual({
      start: `Rule "db" allows access only inside its windows; the next window starts at ${formatTime(latest)}`,
    });
  });

  it('splits a refusal naming several fields, and keeps what names no field of the form above the button', () => {
    expect(refusalErrors({ code: 'INVALID_INPUT', message: 'Invalid request: context.summary: too long; requestedTtlSeconds: must be at most 7d; idempotencyKey: too long' })).toEqual({
      summary: 'too long',
      ttl: 'must be at most 7d',
      form: 'Invalid request: idempotencyKey: too long',
    });
    expect(refusalErrors({ code: 'NO_APPROVERS', message: 'Nobody can approve this.' })).toEqual({ form: 'Nobody can approve this.' });
    expect(refusalErrors({ code: 'TIMEOUT', message: 'timed out' }).form).toMatch(/may or may not have been made/);
  });

  it('tells "may or may not have been made" only where nothing answered; a hub that answered it stored nothing is believed', () => {
    expect(refusalErrors({ code: 'UNAVAILABLE', message: 'Cannot reach the hub at https://hub.example: connect ECONNREFUSED', noAnswer: true }).form).toMatch(/may or may not have been made/);
    const stored = 'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds.';
    expect(refusalErrors({ code: 'UNAVAILABLE', message: stored })).toEqual({ form: stored });
  });
});

describe('parseLinks', () => {
  it('reads "title url" or a bare URL per line', () => {
    expect(parseLinks('Ticket https://t/1\n\nhttps://x')).toEqual([
      { title: 'Ticket', url: 'https://t/1' },
      { title: 'https://x', url: 'https://x' },
    ]);
  });

  it('a bare URL longer than a title may be is named by its host, so the form takes it', () => {
    const long = `https://ci.example.com/acme/payments/actions/runs/${'9'.repeat(200)}`;
    expect(parseLinks(long)).toEqual([{ title: 'ci.example.com', url: long }]);
    expect(buildNewRequest({ ...valid, links: long }).errors).toEqual({});
  });

  it('says the longest access in words, not seconds', () => {
    expect(buildNewRequest({ ...valid, ttl: '8d' }).errors.ttl).toBe('must be at most 7d');
  });
});

describe('offers', () => {
  const offers = [
    { rule: 'a', actions: ['deploy'], environments: ['production'], resources: [], autoApprove: false, minApprovals: 2, grantTtlSeconds: 900 },
    { rule: 'b', actions: ['deploy', 'db-read'], environments: ['staging'], resources: [], autoApprove: true, minApprovals: 1, grantTtlSeconds: 900 },
  ];
  it('lists actions once and environments per action', () => {
    expect(offeredActions(offers)).toEqual(['db-read', 'deploy']);
    expect(offeredEnvironments(offers, 'deploy')).toEqual(['production', 'staging']);
    expect(offeredEnvironments(offers, 'db-read')).toEqual(['staging']);
  });
});
