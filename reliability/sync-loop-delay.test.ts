import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { ADMIN_TOKEN, deployRequest } from '../server/test-support/hub-fixture.js';
import { mapLimit } from '../server/test-support/map-limit.js';
import { call } from './support.js';

/** The hub's event-loop delay, as its own `monitorEventLoopDelay` (prom-client, 10 ms resolution) saw it since the last scrape. */
interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

const RESOLUTION_MS = 10;
const LARGE_INBOX = 2000;
const LARGE_SYNCERS = 4;
const STORM_APPROVERS = 100;
const STORM_INBOX = 200;
/**
 * How long the hub's loop may be held (p99 of its delays: a blocked loop yields few, long samples,
 * so a hub that holds it for the syncs' sum fails by far; one unlucky preemption on a machine
 * shared with other work does not), counted in the hub's own running time (see `stretch`).
 */
const BOUND_MS = 50;
/**
 * A storm is not one call: a hundred handshakes, token checks and syncs queue their turns together,
 * so the loop waits on a few of them in a row. Held to twice the single-call bound; before syncs took
 * turns it was held for the syncs' sum (1,340 ms).
 */
const STORM_BOUND_MS = 2 * BOUND_MS;

/** The hub's main thread: time on a CPU and time ready but waiting for one, from the Linux scheduler. */
function schedulerTimes(pid: number | undefined): { runningNs: number; waitingNs: number } | null {
  try {
    const [running, waiting] = readFileSync(`/proc/${String(pid)}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return running === undefined || waiting === undefined ? null : { runningNs: running, waitingNs: waiting };
  } catch {
    return null;
  }
}

/**
 * How much longer than its running time the hub took while it wanted a CPU: 1 on an idle machine,
 * several when other work holds the two cores. A piece of work that holds the loop for 50 ms of CPU
 * then shows as 50 ms × this in wall-clock loop delay, so the bound is scaled by it: the test then
 * fails for a hub that holds its loop too long, not for a machine that is busy. Without the scheduler's
 * figures (not Linux) it is 1.
 */
function stretch(before: ReturnType<typeof schedulerTimes>, after: ReturnType<typeof schedulerTimes>): number {
  if (!before || !after) return 1;
  const running = after.runningNs - before.runningNs;
  const waiting = after.waitingNs - before.waitingNs;
  return running > 0 ? Math.max(1, (running + waiting) / running) : 1;
}

const policy = [
  'rules:',
  '  - name: large-inbox',
  '    match: { action: deploy, resource: payments-api }',
  '    approvers: [sre]',
  '    maxPending: 100000',
  '  - name: storm',
  '    match: { action: deploy, resource: billing-api }',
  '    approvers: [billing]',
  '    maxPending: 100000',
].join('\n');

/** Reads (and so resets: prom-client starts a new histogram at each scrape) the hub's loop delay. */
async function scrapeLoopDelay(url: string): Promise<LoopDelay> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  const seconds = (name: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`greenlight_process_nodejs_eventloop_lag_${name}_seconds `));
    if (!line) throw new Error(`no ${name} loop delay in /metrics`);
    return Number(line.split(' ')[1]);
  };
  // The histogram holds whole timer intervals; what exceeds the resolution is the delay.
  const delay = (name: string) => Math.max(0, seconds(name) * 1000 - RESOLUTION_MS);
  return { p99Ms: delay('p99'), maxMs: delay('max') };
}

function open(url: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token }, forceNew: true, transports: ['websocket'], reconnection: false, timeout: 60_000 });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Connects and sends `requests:sync` as a (re)connecting app does; resolves with the size of the inbox it got. */
async function connectAndSync(url: string, token: string, sockets: Socket[]): Promise<number> {
  const socket = await open(url, token);
  sockets.push(socket);
  const answer = await new Promise<{ data?: { inbox: unknown[] } }>((resolve) => socket.emit('requests:sync', {}, resolve));
  return answer.data?.inbox.length ?? -1;
}

describe('a requester with thousands of pending requests cannot stall the hub', () => {
  const data = new HubDataDir(policy);
  // Its own process: the loop measured is the hub's alone, not this one's decoding the answers.
  const hub = new HubProcess([...data.args, '--rate-limit', '1000000'], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_LOG_LEVEL: 'error' });
  const sockets: Socket[] = [];
  const user = async (name: string, roles: string[], groups: string[] = []) => {
    const reply = await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name, roles, groups });
    if (reply.status !== 201) throw new Error(`creating ${name}: ${reply.status} ${reply.text}`);
    return reply.body.token;
  };
  /** Runs `work` and reads the hub's longest loop delay meanwhile, and the bound scaled to how busy the machine was. */
  const measured = async (work: () => Promise<number[]>, label: string, boundMs = BOUND_MS) => {
    await scrapeLoopDelay(hub.url);
    const before = schedulerTimes(hub.pid);
    const inboxes = await work();
    const delay = await scrapeLoopDelay(hub.url);
    const factor = stretch(before, schedulerTimes(hub.pid));
    const bound = boundMs * factor;
    console.log(`${label}: loop delay p99 ${delay.p99Ms.toFixed(1)} ms, max ${delay.maxMs.toFixed(1)} ms; bound ${bound.toFixed(0)} ms (${boundMs} ms × ${factor.toFixed(2)}, the hub's wall time per running time)`);
    return { inboxes, delay, bound };
  };
  let largeSyncers: string[] = [];
  let stormApprovers: string[] = [];

  beforeAll(async () => {
    await hub.start();
    const requester = await user('prolific', ['requester']);
    largeSyncers = await Promise.all(Array.from({ length: LARGE_SYNCERS }, (_, i) => user(`sre-${i}`, ['approver'], ['sre'])));
    stormApprovers = await mapLimit(Array.from({ length: STORM_APPROVERS }, (_, i) => i), 10, (i) => user(`billing-${i}`, ['approver'], ['billing']));
    const resources = [...Array.from({ length: LARGE_INBOX }, () => 'payments-api'), ...Array.from({ length: STORM_INBOX }, () => 'billing-api')];
    await mapLimit(resources, 16, async (resource) => {
      const reply = await call(hub.url, 'POST', '/api/v1/requests', requester, deployRequest({ resource }));
      if (reply.status !== 201) throw new Error(`submitting: ${reply.status} ${reply.text}`);
    });
  });

  afterAll(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await hub.kill();
    data.remove();
  });

  it(`answers ${LARGE_SYNCERS} approvers syncing ${LARGE_INBOX} pending requests at once without blocking its event loop`, async () => {
    const { inboxes, delay, bound } = await measured(() => Promise.all(largeSyncers.map((token) => connectAndSync(hub.url, token, sockets))), 'large inbox sync');
    expect(inboxes).toEqual(largeSyncers.map(() => LARGE_INBOX));
    expect(delay.p99Ms).toBeLessThanOrEqual(bound);
  });

  it(`resyncs ${STORM_APPROVERS} approvers reconnecting at once, each with ${STORM_INBOX} pending, without blocking its event loop`, async () => {
    const { inboxes, delay, bound } = await measured(() => Promise.all(stormApprovers.map((token) => connectAndSync(hub.url, token, sockets))), 'reconnect storm', STORM_BOUND_MS);
    expect(inboxes).toEqual(stormApprovers.map(() => STORM_INBOX));
    expect(delay.p99Ms).toBeLessThanOrEqual(bound);
  });
});
