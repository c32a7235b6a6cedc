import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Delegation } from '../../protocol/index.js';
import { TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { cli } from './cli-harness.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

describe('greenlight delegate, delegations, undelegate', () => {
  const hub = new TestHub('sqlite', { policy: 'rules:\n  - { name: prod, approvers: [sre] }\n' });
  let bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('carol', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('delegates through a whole day, lists it, and ends it', async () => {
    const env = { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: bob.token, TZ: 'UTC' };
    const until = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    const created = await cli(['delegate', '--to', 'carol', '--until', until, '--reason', 'holiday', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const delegation = JSON.parse(created.stdout) as Delegation;
    // Through the last day: it ends at the next midnight.
    expect(delegation).toMatchObject({ from: 'bob', to: 'carol', active: true, reason: 'holiday' });
    expect(delegation.endsAt).toBe(new Date(Date.parse(`${until}T00:00:00Z`) + 86_400_000).toISOString());

    const listed = await cli(['delegations'], env);
    expect(listed.stdout).toContain(`${delegation.id}  bob → carol`);
    expect(listed.stdout).toContain('active');

    const ended = await cli(['undelegate', delegation.id], env);
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain('ended by bob');

    const noSuchDay = await cli(['delegate', '--to', 'carol', '--until', '2027-02-31', '--reason', 'holiday'], env);
    expect(noSuchDay.code).toBe(2);
    expect(noSuchDay.stderr).toContain('expected a date (2026-12-31)');
    const noSuchInstant = await cli(['delegate', '--to', 'carol', '--until', '2027-02-31T18:00:00Z', '--reason', 'holiday'], env);
    expect(noSuchInstant.code).toBe(2);
    expect(noSuchInstant.stderr).toContain('expected a date (2026-12-31)');

    const tooFar = await cli(['delegate', '--to', 'carol', '--until', '2099-01-01', '--reason', 'forever'], env);
    expect(tooFar.code).toBe(2);
    expect(tooFar.stderr).toContain('at most 30 days ahead');
  });
});
