import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import pino from 'pino';
import { attachClusterAdapter } from './cluster-adapter.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { eventually } from '../test-support/eventually.js';

const pg = await postgresAvailability();
const HUBS_STARTING_TOGETHER = 6;
const FRESH_DATABASES = 4;

describe.skipIf(!pg.ok)(`the cross-hub event table${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const dropped: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of dropped) await drop();
  });

  it('lets hubs that start together on a fresh database all attach, and hear each other', async () => {
    for (let round = 0; round < FRESH_DATABASES; round += 1) {
      const database = await createTestDatabase();
      dropped.push(database.drop);
      const servers = Array.from({ length: HUBS_STARTING_TOGETHER }, () => new Server(createServer()));
      const heard = servers.map(() => 0);
      servers.forEach((io, index) => io.on('hello', () => (heard[index] = (heard[index] ?? 0) + 1)));
      const attached = await Promise.allSettled(servers.map((io) => attachClusterAdapter(io, database.url, pino({ level: 'silent' }))));
      const refusals = attached.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      if (refusals.length === 0) {
        // Each hub listens once its event connection is up: until then a hello may go unheard.
        await eventually(
          () => {
            servers[0]!.serverSideEmit('hello');
            return heard.slice(1).every((count) => count > 0);
          },
          { what: 'every other hub to hear the first one' },
        );
      }
      // As the hub does: sockets first (the adapter gives back its event connection), then the pool.
      for (const io of servers) await io.close();
      for (const result of attached) if (result.status === 'fulfilled') await result.value();
      expect(refusals).toEqual([]);
    }
  });
});
