/**
 * N Socket.IO clients in a process of their own. Each event they are told to watch is stamped on
 * arrival; its payload carries the sender's wall-clock `t0` (context.fields.t0), so the latency is
 * arrival − t0 across two processes on one machine (sub-millisecond clock skew between them).
 */
import { io, type Socket } from 'socket.io-client';
import { wallMs } from './clock.js';
import { serve, type ClientsCommand, type ClientsReply, type StormReply } from './ipc.js';

const sockets: Socket[] = [];
/** Where each open socket connected, and as whom, for a storm to reconnect them. */
const logins: { url: string; token: string }[] = [];
let latencies: number[] = [];
let received = 0;
/** `await-received` calls waiting for the count to reach theirs. */
let countWaiters: { count: number; resolve: () => void }[] = [];

/** The sender's stamp, wherever it rides: a request view's context.fields.t0, or `t0` on an escalation (computed by the hub's due time). */
function stampOf(payload: unknown): number | null {
  const fields = (payload as { context?: { fields?: Record<string, unknown> } } | null)?.context?.fields;
  const t0 = fields?.t0;
  return typeof t0 === 'string' ? Number(t0) : null;
}

function open(url: string, token: string, events: string[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { forceNew: true, transports: ['websocket'], auth: { token }, reconnection: false, timeout: 60_000 });
    for (const event of events) {
      socket.on(event, (payload: unknown) => {
        const at = wallMs();
        received += 1;
        if (countWaiters.length) {
          for (const waiter of countWaiters) if (received >= waiter.count) waiter.resolve();
          countWaiters = countWaiters.filter((waiter) => received < waiter.count);
        }
        const t0 = stampOf(payload);
        if (t0 !== null) latencies.push(at - t0);
      });
    }
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => reject(error));
  });
}

serve<ClientsCommand, ClientsReply>(async (command) => {
  switch (command.type) {
    case 'connect': {
      const batch = 25;
      for (let i = 0; i < command.tokens.length; i += batch) {
        const tokens = command.tokens.slice(i, i + batch);
        const opened = await Promise.all(tokens.map((token) => open(command.url, token, command.events)));
        sockets.push(...opened);
        logins.push(...tokens.map((token) => ({ url: command.url, token })));
      }
      return { connected: sockets.length };
    }
    case 'collect': {
      const out = latencies;
      const count = received;
      latencies = [];
      received = 0;
      return { latencies: out, received: count };
    }
    case 'await-received': {
      if (received < command.count) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => countWaiters.push({ count: command.count, resolve })),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, command.timeoutMs))),
        ]);
        clearTimeout(timer);
      }
      return { received };
    }
    case 'storm':
      return { storm: await storm(command.pauseMs, command.timeoutMs) };
    case 'close':
      for (const socket of sockets.splice(0)) socket.close();
      setTimeout(() => process.exit(0), 10);
      return {};
  }
});

/**
 * Every socket closes; after a pause (the server sees them go) all reconnect at once, and each sends
 * `requests:sync` on connect, as HubClient does on every (re)connect. Done when every sync is acked.
 */
async function storm(pauseMs: number, timeoutMs: number): Promise<StormReply> {
  for (const socket of sockets.splice(0)) socket.close();
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const start = performance.now();
  let minInbox = Number.POSITIVE_INFINITY;
  let maxInbox = 0;
  let synced = 0;
  let failed = 0;
  const one = ({ url, token }: { url: string; token: string }) =>
    new Promise<void>((resolve) => {
      const socket = io(url, { forceNew: true, transports: ['websocket'], auth: { token }, reconnection: false, timeout: timeoutMs });
      sockets.push(socket);
      socket.once('connect', () => {
        socket.emit('requests:sync', {}, (reply: { data?: { inbox: unknown[] }; error?: unknown }) => {
          if (reply.data) {
            synced += 1;
            minInbox = Math.min(minInbox, reply.data.inbox.length);
            maxInbox = Math.max(maxInbox, reply.data.inbox.length);
          } else failed += 1;
          resolve();
        });
      });
      socket.once('connect_error', () => {
        failed += 1;
        resolve();
      });
    });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(logins.map(one)), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  return { ms: performance.now() - start, synced, minInbox: synced ? minInbox : 0, maxInbox, failed };
}
