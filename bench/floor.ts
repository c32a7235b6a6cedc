import { io as connect, type Socket } from 'socket.io-client';
import { sleep, wallMs } from './clock.js';
import { floorPayload, type BenchContext } from './hubs.js';
import { startClientsChild, startServerChild, type ClientsChild } from './ipc.js';
import { summarize, type Summary } from './stats.js';

export interface FanoutPlan {
  clients: number;
  messages: number;
  intervalMs: number;
  warmup: number;
}

export const fanoutPlan = (quick: boolean): FanoutPlan =>
  quick ? { clients: 200, messages: 50, intervalMs: 50, warmup: 10 } : { clients: 1000, messages: 200, intervalMs: 100, warmup: 10 };

export interface FanoutResult {
  latency: Summary;
  /** Server RSS before and after the clients connected, in bytes. */
  rssBefore: number;
  rssAfter: number;
  clients: number;
}

/**
 * Sends `count` messages at a steady rate through `send(t0)` and gathers every arrival the clients
 * process saw (each message × each client is one sample).
 */
export async function collectFanout(clients: ClientsChild, plan: FanoutPlan, send: (t0: number) => Promise<void>, progress: (message: string) => void, label: string): Promise<number[]> {
  const run = async (count: number): Promise<number[]> => {
    const sends: Promise<void>[] = [];
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const due = start + i * plan.intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sends.push(send(wallMs()));
    }
    await Promise.all(sends);
    const expected = count * plan.clients;
    const latencies: number[] = [];
    let received = 0;
    const deadline = Date.now() + 30_000;
    while (received < expected && Date.now() < deadline) {
      await sleep(100);
      const reply = await clients.call({ type: 'collect' });
      received += reply.received ?? 0;
      for (const value of reply.latencies ?? []) latencies.push(value);
    }
    if (received < expected) progress(`${label}: only ${received} of ${expected} deliveries arrived`);
    return latencies;
  };
  await run(plan.warmup);
  progress(`${label}: ${plan.messages} messages × ${plan.clients} clients, one every ${plan.intervalMs} ms`);
  return run(plan.messages);
}

/**
 * The floor: a bare Socket.IO server relaying one client's event to N clients in another process.
 * `receivers: 1` is the one-to-one floor (one sender, one receiver), at the same rate, count and payload.
 */
export async function runFloor(ctx: BenchContext, options: { receivers?: number } = {}): Promise<FanoutResult> {
  const plan = { ...fanoutPlan(ctx.quick), ...(options.receivers !== undefined ? { clients: options.receivers } : {}) };
  const label = plan.clients === 1 ? 'floor (one-to-one)' : 'floor';
  const server = startServerChild();
  const clients = startClientsChild();
  let sender: Socket | null = null;
  try {
    const { url } = await server.call({ type: 'start-bare' });
    if (!url) throw new Error('no URL from the bare server');
    const rssBefore = (await server.call({ type: 'rss' })).rss ?? Number.NaN;
    ctx.progress(`${label}: connecting ${plan.clients} client${plan.clients === 1 ? '' : 's'} to a bare Socket.IO server`);
    await clients.call({ type: 'connect', url, tokens: Array.from({ length: plan.clients }, () => 'bare'), events: ['request:created'] });
    const rssAfter = (await server.call({ type: 'rss' })).rss ?? Number.NaN;
    const socket = connect(url, { forceNew: true, transports: ['websocket'], reconnection: false });
    sender = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const latencies = await collectFanout(clients, plan, async (t0) => {
      socket.emit('relay', floorPayload(t0));
    }, ctx.progress, label);
    return { latency: summarize(latencies), rssBefore, rssAfter, clients: plan.clients };
  } finally {
    sender?.close();
    await clients.close({ type: 'close' });
    await server.close({ type: 'stop' });
  }
}
