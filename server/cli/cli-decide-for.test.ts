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
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

/** A delegate of two approvers, each in another line of a per-group quorum, names whom a vote from the CLI is for. */
describe('greenlight decide --for, by a delegate of several approvers', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let dev: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, erin: TestUser;

  const migrate = async (reason: string) => {
    const made = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dev.token, deployRequest({ action: 'migrate', resource: 'orders-db', reason }));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return made.body.id;
  };
  const asDave = () => ({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: dave.token });
  const asErin = () => ({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: erin.token });
  const shown = async (id: string) => JSON.parse((await cli(['show', id, '--json'], asDave())).stdout) as GreenlightRequest;

  beforeAll(async () => {
    await hub.start();
    dev = await hub.createUser('dev', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['dba']);
    // Dave decides nothing of his own here: only as bob's and carol's delegate (bob's delegation first).
    dave = await hub.createUser('dave', ['approver'], ['ops']);
    await hub.createUser('sam', ['approver'], ['sre']);
    // Erin is an sre herself, and stands in for carol.
    erin = await hub.createUser('erin', ['approver'], ['sre']);
    for (const [from, to] of [[bob, 'dave'], [carol, 'dave'], [carol, 'erin']] as const) {
      const made = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to, endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
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

  it('without --for, asks a delegate whose vote could count for several approvers whom for, deciding nothing', async () => {
    const id = await migrate('rebuild the orders index');
    const asked = await cli(['decide', id, 'approve'], asDave());
    expect(asked.code).toBe(2);
    expect(asked.stderr.trim()).toBe('error: you may decide this request for bob or carol, and you vote once: say whom for with --for bob, --for carol. Nothing was decided');
    const json = await cli(['decide', id, 'approve', '--json'], asDave());
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'USAGE', message: expect.stringContaining('--for bob, --for carol') } });
    expect(await shown(id)).toMatchObject({ status: 'pending', decisions: [] });

    // The hub's API, named nobody, still counts it for the earliest delegation.
    const api = await hub.api('POST', `/api/v1/requests/${id}/decisions`, dave.token, { decision: 'approve' });
    expect(api.status).toBe(200);
    expect((await shown(id)).decisions).toEqual([expect.objectContaining({ approver: 'bob', by: 'dave', lines: ['sre'] })]);
  });

  it('without --for, asks an approver who stands in for someone too, and --for their own name votes as themselves', async () => {
    const id = await migrate('vacuum the orders table');
    const asked = await cli(['decide', id, 'approve'], asErin());
    expect(asked.code).toBe(2);
    expect(asked.stderr.trim()).toBe('error: you may decide this request as yourself or for carol, and you vote once: say whom for with --for erin (yourself), --for carol. Nothing was decided');
    const decided = await cli(['decide', id, 'approve', '--for', 'erin'], asErin());
    expect(decided.code, decided.stderr).toBe(0);
    expect(decided.stdout).toContain('(your approve for erin is recorded; sre 1/1 · dba 0/1)');
    const decisions = (await shown(id)).decisions;
    expect(decisions).toEqual([expect.objectContaining({ approver: 'erin', lines: ['sre'] })]);
    expect(decisions[0]?.by).toBeUndefined();
  });

  it('leaves someone whose vote can count one way only as before: no --for needed', async () => {
    // Carol is no approver of a deploy: dave stands in for bob alone, erin decides as herself.
    const made = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dev.token, deployRequest({ action: 'deploy', resource: 'payments-api', reason: 'ship the fix' }));
    expect(made.status).toBe(201);
    const decided = await cli(['decide', made.body.id, 'approve'], asDave());
    expect(decided.code, decided.stderr).toBe(0);
    expect((await shown(made.body.id)).decisions).toEqual([expect.objectContaining({ approver: 'bob', by: 'dave' })]);
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
