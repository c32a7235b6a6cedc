import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withTimeout } from './with-timeout.js';

/** How long a scrape waits for the outbox depth before reporting it as unknown (NaN). */
const OUTBOX_DEPTH_TIMEOUT_MS = 1_000;
/** After this long a read still under way is left to itself and the next scrape starts another. */
const OUTBOX_DEPTH_READ_GIVEN_UP_MS = 30_000;

/** Prometheus metrics of one hub, served as text at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'greenlight_process_' });
  // The hub sets where the outbox depth is read from once its database is open.
  let readOutboxDepth: () => Promise<number> = async () => 0;
  let readPolicyDisagreements: () => number = () => 0;
  let readClockOffset: () => number = () => 0;
  // One read at a time: scrapes during a stall share the read under way rather than queue more. A
  // read that never settles (a connection gone half-open) is given up after a while, so the figure
  // comes back with the database.
  let depthRead: { answer: Promise<number>; since: number } | null = null;
  const outboxDepthOnce = (): Promise<number> => {
    if (depthRead && Date.now() - depthRead.since < OUTBOX_DEPTH_READ_GIVEN_UP_MS) return depthRead.answer;
    const read = { answer: readOutboxDepth(), since: Date.now() };
    depthRead = read;
    void read.answer.finally(() => {
      if (depthRead === read) depthRead = null;
    }).catch(() => undefined);
    return read.answer;
  };
  return {
    registry,
    requestsSubmitted: new Counter({ name: 'greenlight_requests_submitted_total', help: 'Requests submitted, by resulting status', labelNames: ['status'], registers: [registry] }),
    decisions: new Counter({ name: 'greenlight_decisions_total', help: 'Decisions recorded', labelNames: ['decision'], registers: [registry] }),
    httpResponses: new Counter({ name: 'greenlight_http_responses_total', help: 'HTTP responses by status code', labelNames: ['status'], registers: [registry] }),
    authFailures: new Counter({ name: 'greenlight_auth_failures_total', help: 'Failed authentications, by whether they were audited (false: refused past the per-address limit)', labelNames: ['recorded'], registers: [registry] }),
    socketConnections: new Gauge({ name: 'greenlight_socket_connections', help: 'Open Socket.IO connections', registers: [registry] }),
    socketEventsInFlight: new Gauge({ name: 'greenlight_socket_events_in_flight', help: 'Socket.IO events being handled and not yet answered', registers: [registry] }),
    longPolls: new Gauge({ name: 'greenlight_long_polls', help: 'Open /wait long-polls', registers: [registry] }),
    deadlinesFired: new Counter({ name: 'greenlight_deadlines_fired_total', help: 'Durable deadlines applied', labelNames: ['kind'], registers: [registry] }),
    deadlineLag: new Histogram({
      name: 'greenlight_deadline_lag_seconds',
      help: 'Time between a deadline and when it was applied',
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'greenlight_notifications_total',
      help: 'Notification delivery attempts by channel and outcome (delivered, retry, dead, gone, refused, disabled)',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    notificationLag: new Histogram({
      name: 'greenlight_notification_delivery_seconds',
      help: 'Time from the commit of a change to the delivery of its notification',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3600, 86_400],
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: 'greenlight_outbox_depth',
      help: 'Notifications waiting to be delivered',
      registers: [registry],
      async collect() {
        // A stalled database must not stall the scrape with it (it is when the other figures matter).
        this.set(await withTimeout(outboxDepthOnce(), OUTBOX_DEPTH_TIMEOUT_MS, 'the database').catch(() => Number.NaN));
      },
    }),
    setOutboxDepthReader(reader: () => Promise<number>): void {
      readOutboxDepth = reader;
    },
    policyDisagreements: new Gauge({
      name: 'greenlight_policy_disagreeing_hubs',
      help: 'Other hubs on this database whose policy digest differs from this hub\'s (0 on a hub alone)',
      registers: [registry],
      collect() {
        this.set(readPolicyDisagreements());
      },
    }),
    setPolicyDisagreementReader(reader: () => number): void {
      readPolicyDisagreements = reader;
    },
    clockOffset: new Gauge({
      name: 'greenlight_clock_offset_seconds',
      help: "How far this hub's system clock is ahead of its PostgreSQL database's (negative: behind), as last measured; 0 on a hub alone",
      registers: [registry],
      collect() {
        this.set(readClockOffset());
      },
    }),
    /** Seconds, from the hub's measure of the database's clock. */
    setClockOffsetReader(reader: () => number): void {
      readClockOffset = reader;
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
