import pgDriver from 'pg';
import { describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { collect, deployRequest } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { hubsWithProxiedDatabase } from './test-support/proxied-hubs.js';
import { eventually } from './test-support/eventually.js';

const pg = await postgresAvailability();

/** One figure from a Prometheus text exposition, or undefined when it is not there. */
function figure(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe.skipIf(!pg.ok)(`hubs while PostgreSQL stalls, then answers${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const { proxy, hubA, hubB, database, users } = hubsWithProxiedDatabase();

  it('still serves /metrics, with the outbox depth unknown, and counts the socket events waiting on the database', async () => {
    const aliceOnA = await hubA.connect(users.alice);
    proxy.hold();
    try {
      const submitted = aliceOnA.submit(deployRequest({ reason: 'submitted while the database stalls' }));
      const metrics = await eventually(async () => {
        const text = await (await fetch(`${hubA.url}/metrics`)).text();
        return figure(text, 'greenlight_socket_events_in_flight') === 1 && text;
      }, { what: 'the stalled submission counted as in flight', every: 200 });
      expect(figure(metrics, 'greenlight_outbox_depth')).toBeNaN();
      proxy.restore();
      expect((await submitted).reason).toBe('submitted while the database stalls');
    } finally {
      proxy.restore();
    }
    await eventually(async () => figure(await (await fetch(`${hubA.url}/metrics`)).text(), 'greenlight_socket_events_in_flight') === 0, { what: 'nothing in flight once answered' });
  });

  // Runs last: hub A stops.
  it('a hub told to stop while a socket submission waits on the database still tells the other hubs once it commits', async () => {
    const bobOnB = await hubB.connect(users.bob);
    const created = collect<GreenlightRequest>((listener) => bobOnB.on('request:created', listener));
    const aliceOnA = await hubA.connect(users.alice);
    // A lock on requests alone: the submission waits on it, while the scheduler and the outbox carry on.
    const locker = new pgDriver.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table requests in exclusive mode');
      void aliceOnA.submit(deployRequest({ reason: 'submitted as hub A stops' })).catch(() => undefined);
      await eventually(async () => (await locker.query<{ waiting: number }>(`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0]!.waiting > 0, { what: 'the submission waiting on the lock' });
      const stopping = hubA.stop();
      await eventually(() => fetch(`${hubA.url}/healthz`).then(() => false, () => true), { what: 'hub A refusing connections' });
      // Not a measurement: time for a hub that closed its sockets as soon as HTTP was done to have done so.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await locker.query('commit');
      await stopping;
    } finally {
      await locker.end();
    }
    const pushed = await created.next((request) => request.reason === 'submitted as hub A stops');
    expect(pushed.requester).toBe('alice');
  });
});
