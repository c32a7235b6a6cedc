import { io as connect, type Socket } from 'socket.io-client';
import { mapLimit } from '../server/test-support/map-limit.js';
import { api, createUsers, requestBody, startHubChild, type BenchContext } from './hubs.js';
import { startClientsChild, startServerChild, type LoopDelay, type ServerChild, type StormReply } from './ipc.js';
import { summarize, type Summary } from './stats.js';

export interface SyncFigures {
  /** `requests:sync` round trips for one approver with `inView` pending requests in their inbox. */
  sync: Summary;
  inView: number;
  /** Size of that answer as JSON. */
  syncBytes: number;
  /** The same answer from a bare Socket.IO server (no database, nothing to build): the floor. */
  syncFloor: Summary;
  storm: StormReply;
  stormLoopDelay: LoopDelay;
  stormFloor: StormReply;
  stormFloorLoopDelay: LoopDelay;
  stormClients: number;
  /** Pending requests in each storm approver's inbox. */
  stormInView: number;
}

/** Approver groups for the storm: each has its own rule and its own pending requests. */
const TEAMS = 5;
const IN_FLIGHT = 32;

/** The bench rule for `payments-api` (group sre), and one rule per team group for `team-N-api`. */
function syncPolicy(): string {
  const lines = ['rules:', '  - name: bench', '    match: { action: deploy, resource: payments-api }', '    approvers: [sre]', '    maxPending: 1000000'];
  for (let team = 0; team < TEAMS; team++) {
    lines.push(`  - name: team-${team}`, `    match: { action: deploy, resource: team-${team}-api }`, `    approvers: [team-${team}]`, '    maxPending: 1000000');
  }
  return lines.join('\n') + '\n';
}

function open(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(url, { forceNew: true, transports: ['websocket'], auth: { token }, reconnection: false, timeout: 60_000 });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

interface SyncAnswer {
  data?: { inbox: unknown[] };
  error?: unknown;
}

function syncOnce(socket: Socket): Promise<SyncAnswer> {
  return new Promise((resolve) => socket.emit('requests:sync', {}, resolve));
}

/** `count` round trips of `requests:sync` on one socket, one after another, after a few warm-ups. */
async function syncRoundTrips(socket: Socket, count: number, expected: number): Promise<{ times: number[]; last: SyncAnswer }> {
  let last: SyncAnswer = {};
  const times: number[] = [];
  for (let i = 0; i < count + 5; i++) {
    const t0 = performance.now();
    last = await syncOnce(socket);
    const elapsed = performance.now() - t0;
    if (!last.data) throw new Error(`sync failed: ${JSON.stringify(last.error)}`);
    if (last.data.inbox.length !== expected) throw new Error(`sync returned ${last.data.inbox.length} requests in the inbox, expected ${expected}`);
    if (i >= 5) times.push(elapsed);
  }
  return { times, last };
}

/** Connects the storm's clients, lets them all reconnect at once and resync, and reads the server's loop delay over it. */
async function stormAgainst(server: ServerChild, url: string, tokens: string[], expected: number, label: string, ctx: BenchContext): Promise<{ storm: StormReply; loopDelay: LoopDelay }> {
  const clients = startClientsChild();
  try {
    ctx.progress(`${label}: connecting ${tokens.length} approvers`);
    await clients.call({ type: 'connect', url, tokens, events: [] });
    await server.call({ type: 'loop-delay-start' });
    ctx.progress(`${label}: ${tokens.length} approvers reconnect at once, each syncing ${expected} pending requests`);
    const reply = await clients.call({ type: 'storm', pauseMs: 1000, timeoutMs: 120_000 });
    const { loopDelay } = await server.call({ type: 'loop-delay-stop' });
    const storm = reply.storm;
    if (!storm || !loopDelay) throw new Error('no storm figures');
    if (storm.synced !== tokens.length || storm.minInbox !== expected || storm.maxInbox !== expected) {
      ctx.progress(`${label}: ${storm.synced} of ${tokens.length} synced (${storm.failed} failed), inboxes of ${storm.minInbox}–${storm.maxInbox} (expected ${expected})`);
    }
    return { storm, loopDelay };
  } finally {
    await clients.close({ type: 'close' });
  }
}

/**
 * `requests:sync` for an approver with 2,000 pending requests in view (round trip at the client, in
 * this process), and a reconnect storm: 1,000 approvers (200 in `--quick`), each with 200 pending
 * requests in view, reconnect at once and resync, while the hub's process records its event-loop
 * delay. Both are run again against a bare Socket.IO server answering with the same payloads.
 */
export async function runSync(ctx: BenchContext): Promise<SyncFigures> {
  const inView = 2000;
  const stormInView = 200;
  const stormClients = ctx.quick ? 200 : 1000;
  const samples = ctx.quick ? 40 : 200;
  const hub = await startHubChild(ctx, { policy: syncPolicy() });
  let syncAnswer: SyncAnswer;
  let stormAnswer: SyncAnswer;
  let sync: Summary;
  let storm: { storm: StormReply; loopDelay: LoopDelay };
  let teamTokens: string[];
  try {
    ctx.progress(`sync: creating ${stormClients + 2} users`);
    const [requester] = await createUsers(hub.url, 'requester', 1, ['requester'], []);
    const [syncer] = await createUsers(hub.url, 'syncer', 1, ['approver'], ['sre']);
    if (!requester || !syncer) throw new Error('no users');
    teamTokens = (
      await Promise.all(Array.from({ length: TEAMS }, (_, team) => createUsers(hub.url, `team${team}-approver`, stormClients / TEAMS, ['approver'], [`team-${team}`])))
    ).flat();
    const resources = [...Array.from({ length: inView }, () => 'payments-api'), ...Array.from({ length: TEAMS * stormInView }, (_, i) => `team-${i % TEAMS}-api`)];
    ctx.progress(`sync: submitting ${resources.length} pending requests`);
    await mapLimit(resources, IN_FLIGHT, async (resource) => {
      const { status, body } = await api(hub.url, 'POST', '/api/v1/requests', requester, requestBody(undefined, resource));
      if (status !== 201) throw new Error(`submit failed: ${status} ${JSON.stringify(body)}`);
    });

    ctx.progress(`sync: ${samples} requests:sync round trips with ${inView} pending in view`);
    const socket = await open(hub.url, syncer);
    try {
      const measured = await syncRoundTrips(socket, samples, inView);
      sync = summarize(measured.times);
      syncAnswer = measured.last;
    } finally {
      socket.close();
    }
    const teamSocket = await open(hub.url, teamTokens[0] ?? '');
    try {
      stormAnswer = await syncOnce(teamSocket);
    } finally {
      teamSocket.close();
    }
    storm = await stormAgainst(hub.child, hub.url, teamTokens, stormInView, 'reconnect storm', ctx);
  } finally {
    await hub.close();
  }

  // The floors: a bare Socket.IO server in the same kind of process, answering with the hub's own answers.
  const bare = startServerChild(ctx.serverExecArgv);
  try {
    const { url } = await bare.call({ type: 'start-bare' });
    if (!url) throw new Error('no URL from the bare server');
    await bare.call({ type: 'set-sync-reply', reply: syncAnswer.data });
    ctx.progress(`sync floor: ${samples} round trips of the same answer from a bare server`);
    const socket = await open(url, 'bare');
    let syncFloor: Summary;
    try {
      syncFloor = summarize((await syncRoundTrips(socket, samples, inView)).times);
    } finally {
      socket.close();
    }
    await bare.call({ type: 'set-sync-reply', reply: stormAnswer.data });
    const stormFloor = await stormAgainst(bare, url, teamTokens.map(() => 'bare'), stormInView, 'reconnect storm floor', ctx);
    return {
      sync,
      inView,
      syncBytes: Buffer.byteLength(JSON.stringify(syncAnswer.data)),
      syncFloor,
      storm: storm.storm,
      stormLoopDelay: storm.loopDelay,
      stormFloor: stormFloor.storm,
      stormFloorLoopDelay: stormFloor.loopDelay,
      stormClients,
      stormInView,
    };
  } finally {
    await bare.close({ type: 'stop' });
  }
}
