import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('tokens looked up together on %s', (kind) => {
  const skip = kind === 'postgres' && !pg.ok;
  const hub = new TestHub(kind, { policy: POLICY });
  const users: TestUser[] = [];

  beforeAll(async () => {
    if (skip) return;
    await hub.start();
    for (let i = 0; i < 30; i++) users.push(await hub.createUser(`user-${i}`, i % 3 === 0 ? ['approver'] : ['requester'], i % 3 === 0 ? ['sre', `team-${i}`] : [`team-${i}`]));
  });
  afterAll(() => hub.dispose());

  it.skipIf(skip)('a burst of calls with different tokens: each caller is themselves, with their own groups; unknown and disabled tokens are refused', async () => {
    const disabled = await hub.createUser('gone', ['requester'], ['team-gone']);
    expect((await hub.api('POST', '/api/v1/users/gone/disable', ADMIN_TOKEN)).status).toBe(200);
    const callers = [...users, ...users].map((user) => ({ token: user.token, expected: user.name }));
    callers.splice(7, 0, { token: 'glt_0000000000000000000000000000000000000000000', expected: '' }, { token: disabled.token, expected: '' });

    const replies = await Promise.all(callers.map((caller) => hub.api<{ name: string; groups: string[] }>('GET', '/api/v1/me', caller.token)));

    replies.forEach((reply, index) => {
      const caller = callers[index]!;
      if (caller.expected === '') {
        expect(reply.status).toBe(401);
        return;
      }
      expect(reply.status).toBe(200);
      expect(reply.body.name).toBe(caller.expected);
      const number = caller.expected.slice('user-'.length);
      expect(reply.body.groups.sort()).toEqual(Number(number) % 3 === 0 ? ['sre', `team-${number}`].sort() : [`team-${number}`]);
    });
  });
});
