import { afterAll, describe, expect, it } from 'vitest';
import { spawnHub, type SpawnedHub } from '../test-support/hub-process.js';

/** The hub's pino lines for answered HTTP requests. */
function accessLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.component === 'http' && entry.msg === 'request');
}

// Shaped like a cursor, so the list answers 200 and the value could reach the log.
const QUERY_SECRET = 'req_0sekritqueryvalue4711';
const BODY_SECRET = 'sekrit-body-value-0815';

/** A few calls as alice: a 404 by id, a list with a query string, a submit whose body carries a marker. */
async function exercise(hub: SpawnedHub): Promise<string> {
  const alice = await hub.createUser({ name: 'alice', roles: ['requester'], groups: [] });
  // The starter policy's approvers, so the submission is accepted rather than refused (NO_APPROVERS).
  await hub.createUser({ name: 'bob', roles: ['approver'], groups: ['approvers'] });
  const headers = { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' };
  expect((await fetch(`${hub.url}/api/v1/requests/req_doesnotexist`, { headers })).status).toBe(404);
  expect((await fetch(`${hub.url}/api/v1/requests?limit=5&cursor=${QUERY_SECRET}`, { headers })).status).toBe(200);
  const body = JSON.stringify({ action: 'deploy', resource: 'web', environment: 'production', reason: BODY_SECRET, risk: 'low' });
  expect((await fetch(`${hub.url}/api/v1/requests`, { method: 'POST', headers, body })).status).toBe(201);
  expect((await fetch(`${hub.url}/api/v1/requests?token=${QUERY_SECRET}`)).status).toBe(401);
  return alice.token;
}

describe('the HTTP access log of a real hub', () => {
  const hubs: SpawnedHub[] = [];
  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
  });

  it('has one line per request with method, route pattern, status, duration and user, and no token, query or body', async () => {
    const hub = await spawnHub({ args: ['--log-level', 'info'] });
    hubs.push(hub);
    const token = await exercise(hub);
    // Stopping flushes the log: every line of the requests above is in the output after this.
    await hub.stop({ keepData: true });

    const lines = accessLines(hub.output());
    const byRoute = (method: string, route: string, status: number) => lines.find((line) => line.method === method && line.route === route && line.status === status);
    expect(byRoute('GET', '/api/v1/requests/:id', 404)).toMatchObject({ level: 30, user: 'alice', ms: expect.any(Number) });
    expect(byRoute('GET', '/api/v1/requests', 200)).toMatchObject({ user: 'alice' });
    expect(byRoute('POST', '/api/v1/requests', 201)).toMatchObject({ user: 'alice' });
    expect(byRoute('POST', '/api/v1/users', 201)).toMatchObject({ user: 'admin' });
    const anonymous = byRoute('GET', '/api/v1/requests', 401);
    expect(anonymous).toBeDefined();
    expect(anonymous).not.toHaveProperty('user');
    for (const line of lines) expect(Object.keys(line).sort()).toEqual(expect.arrayContaining(['method', 'route', 'status', 'ms']));

    const output = hub.output();
    for (const secret of [token, hub.adminToken, QUERY_SECRET, BODY_SECRET, 'req_doesnotexist']) expect(output).not.toContain(secret);
  });

  it('is off with --no-access-log', async () => {
    const hub = await spawnHub({ args: ['--log-level', 'info', '--no-access-log'] });
    hubs.push(hub);
    await exercise(hub);
    await hub.stop({ keepData: true });
    expect(hub.output()).toContain('"msg":"hub stopped"');
    expect(accessLines(hub.output())).toEqual([]);
  });
});
