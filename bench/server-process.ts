/**
 * The server under test in its own process, so client load and client memory stay out of its
 * figures: either a bare Socket.IO server (the floor) or a Greenlight hub.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Server } from 'socket.io';
import Fastify, { type FastifyInstance } from 'fastify';
import { startHub, type RunningHub } from '../server/hub.js';
import { serve, type ServerCommand, type ServerReply } from './ipc.js';
import type { NotifiersConfig } from '../server/notify/config.js';
import { wallMs } from './clock.js';
import { request as httpRequest, Agent } from 'node:http';

let bare: { http: HttpServer; io: Server } | null = null;
let hub: RunningHub | null = null;
let bareHttp: FastifyInstance | null = null;
/** What the bare server answers `requests:sync` with (set by the bench from a real hub's answer). */
let syncReply: unknown = null;
let loopDelay: IntervalHistogram | null = null;
/** The monitor's timer interval: each sample is that interval plus the delay, so it is taken off. */
const LOOP_DELAY_RESOLUTION_MS = 10;

/** Same fastify, same JSON body parsing, a reply the size of the hub's; no auth, no database. */
async function startBareHttp(reply: unknown): Promise<string> {
  const app = Fastify({ logger: false });
  app.post('/api/v1/requests', async (_request, response) => response.status(201).send(reply));
  await app.listen({ port: 0, host: '127.0.0.1' });
  bareHttp = app;
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function startBare(): Promise<string> {
  const http = createServer();
  // Same library, same transport and same options that matter as the hub's Socket.IO server, but the
  // stock encoder: the floor encodes a sync's answer in one go, as Socket.IO does by itself.
  const io = new Server(http, { serveClient: false, pingInterval: 25_000, pingTimeout: 20_000, cors: { origin: false }, maxHttpBufferSize: 8 * 1024 * 1024 });
  io.on('connection', (socket) => {
    void socket.join('approvers');
    // One event in from one client, relayed to every other connected client, as the hub fans out.
    socket.on('relay', (payload: unknown) => {
      socket.to('approvers').emit('request:created', payload);
    });
    // The sync floor: the same answer a hub gave, with no database and no views to build.
    socket.on('requests:sync', (_input: unknown, ack: unknown) => {
      if (typeof ack === 'function') (ack as (reply: unknown) => void)({ data: syncReply });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  bare = { http, io };
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

/** Plain POSTs over a keep-alive agent, as the hub's webhook channel sends them, without the hub. */
async function postFloor(url: string, body: string, count: number, concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-t0': String(wallMs()) } });
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await post();
      }
    }),
  );
  agent.destroy();
}

async function rss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().rss;
}

async function stop(): Promise<void> {
  if (bare) {
    const { io } = bare;
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    bare = null;
  }
  if (hub) {
    await hub.close();
    hub = null;
  }
  if (bareHttp) {
    await bareHttp.close();
    bareHttp = null;
  }
}

serve<ServerCommand, ServerReply>(async (command) => {
  switch (command.type) {
    case 'start-bare':
      return { url: await startBare() };
    case 'start-bare-http':
      return { url: await startBareHttp(command.reply) };
    case 'start-hub':
      hub = await startHub({
        port: 0,
        dataDir: command.dataDir,
        databaseUrl: command.databaseUrl ?? undefined,
        policyFile: command.policyFile ?? undefined,
        adminToken: command.adminToken,
        logLevel: 'silent',
        consoleDir: null,
        print: () => undefined,
        rateLimitPerMinute: 100_000_000,
        sqliteSync: command.sqliteSync,
        notifiers: command.notifiers as NotifiersConfig | undefined,
      });
      return { url: hub.url };
    case 'http-post-floor':
      await postFloor(command.url, command.body, command.count, command.concurrency);
      return {};
    case 'set-sync-reply':
      syncReply = command.reply;
      return {};
    case 'loop-delay-start':
      loopDelay?.disable();
      loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
      loopDelay.enable();
      return {};
    case 'loop-delay-stop': {
      if (!loopDelay) throw new Error('loop-delay-start was not sent');
      loopDelay.disable();
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
      const histogram = loopDelay;
      loopDelay = null;
      return { loopDelay: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), count: histogram.count } };
    }
    case 'rss':
      return { rss: await rss() };
    case 'max-rss':
      // resourceUsage reports kilobytes.
      return { maxRss: process.resourceUsage().maxRSS * 1024 };
    case 'cpu': {
      const usage = process.cpuUsage();
      return { cpuMicros: usage.user + usage.system };
    }
    case 'stop':
      await stop();
      setTimeout(() => process.exit(0), 10);
      return {};
  }
});
