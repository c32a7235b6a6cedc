import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Delegation, GreenlightRequest } from '../../protocol/index.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { cli } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const POLICY = `
rules:
  - name: both
    match: { action: migrate }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
`;

/** A delegate of two approvers, each in another line of a per-group quorum, names whom a vote from the CLI is for. */
describe('greenlight decide --for, by a delegate of several approvers', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let dev: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;

  const migrate = async (reason: string) => {
    const made = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dev.token, deployRequest({ action: 'migrate', resource: 'orders-db', reason }));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return made.body.id;
  };
  const asDave = () => ({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: dave.token });

  beforeAll(async () => {
    await hub.start();
    dev = await hub.createUser('dev', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['dba']);
    // Dave decides nothing of his own here: only as bob's and carol's delegate (bob's delegation first).
    dave = await hub.createUser('dave', ['approver'], ['ops']);
    await hub.createUser('sam', ['approver'], ['sre']);
    for (const from of [bob, carol]) {
      const made = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to: 'dave', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
      expect(made.status).toBe(201);
    }
  });
  afterAll(() => hub.dispose());

  it('counts the vote for the approver named, in their line, and says so', async () => {
    const id = await migrate('add the orders index');
    const decided = await cli(['decide', id, 'approve', '--for', 'carol'], asDave());
    expect(decided.code, decided.stderr).toBe(0);
    expect(decided.stdout).toContain('(your approve for carol is recorded; sre 0/1 · dba 1/1)');
    const shown = await cli(['show', id, '--json'], asDave());
    const request = JSON.parse(shown.stdout) as GreenlightRequest;
    expect(request.decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'dave', decision: 'approve', lines: ['dba'] })]);
  });

  it('shows the vote as dave for carol in `show`: its decision line and its timeline line', async () => {
    const id = await migrate('widen the orders index');
    expect((await cli(['decide', id, 'approve', '--for', 'carol', '--comment', 'checked the plan'], asDave())).code).toBe(0);
    const shown = await cli(['show', id], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: dev.token });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}decision {5}dave for carol approved at \S+: checked the plan$/m);
    expect(shown.stdout).toMatch(/^ {2}timeline {5}\S+ request\.vote by dave: approved for carol: checked the plan$/m);

    const denied = await migrate('drop the orders index');
    expect((await cli(['decide', denied, 'deny', '--for', 'bob', '--comment', 'not during the freeze'], asDave())).code).toBe(0);
    const shownDenied = (await cli(['show', denied], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: dev.token })).stdout;
    expect(shownDenied).toMatch(/^ {2}decision {5}dave for bob denied at \S+: not during the freeze$/m);
    expect(shownDenied).toMatch(/^ {2}timeline {5}\S+ request\.denied by dave: for bob: not during the freeze$/m);
  });

  it('without --for, counts it for the earliest delegation, as the hub always did', async () => {
    const id = await migrate('rebuild the orders index');
    expect((await cli(['decide', id, 'approve'], asDave())).code).toBe(0);
    const request = JSON.parse((await cli(['show', id, '--json'], asDave())).stdout) as GreenlightRequest;
    expect(request.decisions).toEqual([expect.objectContaining({ approver: 'bob', by: 'dave', lines: ['sre'] })]);
  });

  it('is refused by the hub, deciding nothing, for someone the caller does not stand in for', async () => {
    const id = await migrate('drop the old orders index');
    const refused = await cli(['decide', id, 'deny', '--for', 'sam'], asDave());
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe("error: You are not sam's delegate now; a delegation covers only its window and its rules. (NOT_ELIGIBLE)");
    const request = JSON.parse((await cli(['show', id, '--json'], asDave())).stdout) as GreenlightRequest;
    expect(request).toMatchObject({ status: 'pending', decisions: [] });
  });
});
