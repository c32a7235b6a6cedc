/**
 * N Socket.IO clients in a process of their own. Each event they are told to watch is stamped on
 * arrival; its payload carries the sender's wall-clock `t0` (context.fields.t0), so the latency is
 * arrival − t0 across two processes on one machine (sub-millisecond clock skew between them).
 */
import { io, type Socket } from 'socket.io-client';
import { wallMs } from './clock.js';
import { serve, type ClientsCommand, type ClientsReply } from './ipc.js';

const sockets: Socket[] = [];
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
        const opened = await Promise.all(command.tokens.slice(i, i + batch).map((token) => open(command.url, token, command.events)));
        sockets.push(...opened);
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
    case 'close':
      for (const socket of sockets.splice(0)) socket.close();
      setTimeout(() => process.exit(0), 10);
      return {};
  }
});
