import { writeFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus, HubClient, SetupStatus } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, startOnOneDatabase, TestHub } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();

const SRE_APPROVES = `
rules:
  - name: prod
    match: { environment: production }
    approvers: [sre]
`;
/** One rule more: a staging request one hub allows and the other refuses. */
const WITH_STAGING = `${SRE_APPROVES}
  - name: staging
    match: { environment: staging }
    autoApprove: true
`;

/** A raw socket recording the name of every event pushed to it, whatever it is. */
async function listen(url: string, token: string): Promise<{ socket: Socket; heard: string[]; settled: () => Promise<void> }> {
  const socket = io(url, { auth: { token }, forceNew: true, transports: ['websocket'], reconnection: false });
  const heard: string[] = [];
  socket.onAny((event: string) => heard.push(event));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  // An acknowledged call on the same socket: anything pushed to it before has arrived by its answer.
  const settled = async () => void (await socket.timeout(10_000).emitWithAck('requests:sync', {}));
  return { socket, heard, settled };
}

describe.skipIf(!pg.ok)(`the cluster status pushed to admins as hubs' policies part and agree again${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const hubA = new TestHub('postgres', { policy: SRE_APPROVES });
  const hubB = new TestHub('postgres', { policy: SRE_APPROVES });
  const sockets: Socket[] = [];

  beforeAll(async () => {
    await startOnOneDatabase(hubA, hubB);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await hubB.dispose();
    await hubA.dispose();
  });

  const hubsHeardBy = async (hub: TestHub) => (await hub.api<SetupStatus>('GET', '/api/v1/setup', ADMIN_TOKEN)).body.cluster?.hubs ?? [];

  it('tells the admins on each hub at once when the other hub runs another policy, and again once it agrees; nobody else', async () => {
    for (const hub of [hubA, hubB]) await eventually(async () => (await hubsHeardBy(hub)).length === 1, { what: 'each hub to hear the other' });
    const bob = await hubA.createUser('bob', ['approver'], ['sre']);
    const alice = await hubA.createUser('alice', ['requester']);
    // The admin's own token without the admin scope: it may not read the setup status, so it hears none of it.
    const narrow = await hubA.api<{ token: string }>('POST', '/api/v1/tokens', ADMIN_TOKEN, { name: 'inbox only', scopes: ['requests:read', 'requests:decide'], expiresIn: '1h' });
    expect(narrow.status).toBe(201);

    const adminOnA: HubClient = await hubA.connect({ name: 'admin', token: ADMIN_TOKEN });
    const adminOnB: HubClient = await hubB.connect({ name: 'admin', token: ADMIN_TOKEN });
    const pushedToA = collect<ClusterStatus>((listener) => adminOnA.on('cluster:status', listener));
    const pushedToB = collect<ClusterStatus>((listener) => adminOnB.on('cluster:status', listener));
    const others = { bob: await listen(hubA.url, bob.token), alice: await listen(hubA.url, alice.token), narrow: await listen(hubA.url, narrow.body.token) };
    sockets.push(...Object.values(others).map((other) => other.socket));

    writeFileSync(hubB.policyPath!, WITH_STAGING);
    const partedOnA = await pushedToA.next((status) => status.policyWarning !== null);
    expect(partedOnA.policyWarning).toContain(`from ${hubB.policyPath}`);
    expect(partedOnA.policyWarning).toContain('Deploy the same policy file to every hub');
    expect(partedOnA.hubs).toEqual([expect.objectContaining({ file: hubB.policyPath, samePolicy: false })]);
    const partedOnB = await pushedToB.next((status) => status.policyWarning !== null);
    expect(partedOnB.policyWarning).toContain(`from ${hubA.policyPath}`);

    writeFileSync(hubB.policyPath!, SRE_APPROVES);
    const agreedOnA = await pushedToA.next((status) => status.policyWarning === null);
    expect(agreedOnA.hubs).toEqual([expect.objectContaining({ samePolicy: true })]);
    await pushedToB.next((status) => status.policyWarning === null);
    // Once on each change, not at every announcement heard.
    expect(pushedToA.items.map((status) => status.policyWarning !== null)).toEqual([true, false]);

    for (const other of Object.values(others)) await other.settled();
    expect(others.bob.heard).not.toContain('cluster:status');
    expect(others.alice.heard).not.toContain('cluster:status');
    expect(others.narrow.heard).not.toContain('cluster:status');
    expect(adminOnA.rejectedPushes).toBe(0);
  });
});
