import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterStatusSchema, type ClusterStatus } from '../../protocol/index.js';
import { DatabaseClock, readDatabaseTime } from '../database-clock.js';
import { PolicyAgreement } from '../domain/policy-agreement.js';
import { capturedLog } from '../test-support/captured-log.js';
import { collect } from '../test-support/hub-fixture.js';
import { POSTGRES_ADMIN_URL, postgresAvailability } from '../test-support/postgres.js';
import { pushClusterStatus } from './cluster-status-pushes.js';
import type { HubServer } from './hub-server.js';
import { ADMIN_ROOM } from './rooms.js';

const postgres = await postgresAvailability();
const TWO_MINUTES = 120_000;

/**
 * The clock half of the cluster status, on a real Socket.IO server and PostgreSQL's clock: a system
 * clock that jumps (the test moves it) is found at the next measurement, and the admins' room hears so.
 * (Which sockets join that room is `cluster-status-push.test.ts`'s, on whole hubs.)
 */
describe.skipIf(!postgres.ok)(`the clock warning pushed to the admins' room${postgres.ok ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  const pool = new pg.Pool({ connectionString: POSTGRES_ADMIN_URL, max: 1 });
  const http = createServer();
  const server: HubServer = new Server(http);
  server.on('connection', (socket) => void socket.join(ADMIN_ROOM));
  let client: Socket | null = null;
  afterAll(async () => {
    client?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool.end();
  });

  it('is pushed when a measurement finds the clock off, and again when one finds it right, not at every measurement', async () => {
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const log = capturedLog('info').logger;
    let shiftMs = 0;
    const clock = new DatabaseClock(() => readDatabaseTime(pool), log, () => Date.now() + shiftMs);
    await clock.measure();
    const agreement = new PolicyAgreement(() => ({ hub: 'this-hub', host: 'here', url: 'http://here', digest: 'a'.repeat(64), file: null }), log);
    pushClusterStatus(server, agreement, clock);

    client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { forceNew: true, transports: ['websocket'] });
    const pushed = collect<ClusterStatus>((listener) => {
      client?.on('cluster:status', (raw: unknown) => listener(clusterStatusSchema.parse(raw)));
      return () => undefined;
    });
    await new Promise<void>((resolve) => client?.once('connect', () => resolve()));

    shiftMs = TWO_MINUTES;
    await clock.measure();
    const off = await pushed.next();
    expect(off.clockWarning).toContain("This hub's system clock is 2 min ahead of the database's");
    expect(off.clockAheadSeconds).toBeCloseTo(120, 0);

    await clock.measure();
    shiftMs = 0;
    await clock.measure();
    const right = await pushed.next((status) => status.clockWarning === null);
    expect(Math.abs(right.clockAheadSeconds ?? Number.NaN)).toBeLessThan(1);
    expect(pushed.items.map((status) => status.clockWarning !== null)).toEqual([true, false]);
  });
});
