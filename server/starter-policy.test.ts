import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { STARTER_POLICY } from './domain/starter-policy.js';
import { ADMIN_TOKEN, deployRequest } from './test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from './test-support/hub-process.js';

// Two starts of a real `greenlight hub` process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

type Reply = { status: number; body: GreenlightRequest & { error: { code: string; message: string }; token: string } };

async function call(url: string, route: string, token: string, body: unknown): Promise<Reply> {
  const response = await fetch(url + route, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Reply['body'] };
}

describe('greenlight hub without --policy', () => {
  // No policy given: the data directory starts empty.
  const data = new HubDataDir();
  const file = path.join(data.path, 'policy.yaml');
  const hub = new HubProcess(data.args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_POLICY: undefined });
  afterAll(async () => {
    await hub.stop();
    data.remove();
  });

  it('writes the starter policy on first start, says where, uses it, and keeps it as edited on the next start', async () => {
    const url = await hub.start();
    expect(hub.output()).toContain(`No --policy given: wrote a starter policy to ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(STARTER_POLICY);
    // Nobody is in "approvers" yet: the log says so, and a request is refused rather than left waiting.
    expect(hub.output()).toMatch(/"level":40,.*the policy names groups with no active member who could approve: approvers \(rule default\)/);
    const alice = (await call(url, '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] })).body.token;
    const refused = await call(url, '/api/v1/requests', alice, deployRequest());
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('NO_APPROVERS');

    expect((await call(url, '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['approvers'] })).status).toBe(201);
    const accepted = await call(url, '/api/v1/requests', alice, deployRequest());
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ status: 'pending', eligibleGroups: ['approvers'], rule: { name: 'default', minApprovals: 1 } });

    await hub.stop();
    const edited = STARTER_POLICY.replace('  - name: default\n', '  - name: staging\n    match: { environment: staging }\n    autoApprove: true\n\n  - name: default\n');
    writeFileSync(file, edited);
    const again = await hub.start();
    expect(hub.output()).toContain(`No --policy given: using ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(edited);
    const staged = await call(again, '/api/v1/requests', alice, deployRequest({ environment: 'staging' }));
    expect(staged.body).toMatchObject({ status: 'approved', rule: { name: 'staging' } });
  });
});

describe('greenlight hub with GREENLIGHT_POLICY', () => {
  const data = new HubDataDir();
  const own = new HubDataDir('rules:\n  - name: from-the-environment\n    autoApprove: true\n');
  const hub = new HubProcess(data.args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_POLICY: own.policyFile ?? '' });
  afterAll(async () => {
    await hub.stop();
    data.remove();
    own.remove();
  });

  it('takes the policy from the variable as from --policy, and writes no starter', async () => {
    const url = await hub.start();
    expect(hub.output()).not.toContain('No --policy given');
    expect(existsSync(path.join(data.path, 'policy.yaml'))).toBe(false);
    const alice = (await call(url, '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] })).body.token;
    expect((await call(url, '/api/v1/requests', alice, deployRequest())).body).toMatchObject({ status: 'approved', rule: { name: 'from-the-environment' } });
  });
});
