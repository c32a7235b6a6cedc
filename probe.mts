import { createServer } from 'node:http';
import { Server } from 'socket.io';
import pino from 'pino';
import { attachClusterAdapter } from './server/transport/cluster-adapter.js';
import { createTestDatabase } from './server/test-support/postgres.js';
const t0 = Date.now();
const database = await createTestDatabase();
const servers = Array.from({ length: 6 }, () => new Server(createServer()));
const attached = await Promise.allSettled(servers.map((io) => attachClusterAdapter(io, database.url, pino({ level: 'silent' }))));
console.log('attached', Date.now() - t0, attached.map((r) => r.status === 'rejected' ? String(r.reason) : 'ok'));
for (const io of servers) { await io.close(); console.log('closed io', Date.now() - t0); }
for (const r of attached) if (r.status === 'fulfilled') { await r.value(); console.log('closed adapter', Date.now() - t0); }
await database.drop();
console.log('dropped', Date.now() - t0);
