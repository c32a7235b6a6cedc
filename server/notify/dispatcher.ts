import type { TimerHandle } from '../clock.js';
import { inTransaction, audit, type Context } from '../domain/context.js';
import { SYSTEM_ACTOR_NAME } from '../domain/actor.js';
import { newId } from '../ids.js';
import { outboxStore, type OutboxChanges, type OutboxRecord } from '../store/outbox.js';
import { slackAlertStore } from '../store/slack-alerts.js';
import { exclusiveClaimStore } from '../store/exclusive-claims.js';
import type { FastLane, Outbox } from './outbox.js';
import { nextAttemptDelay } from './retry.js';
import { detached } from '../detached.js';
import type { DeliveryEndpoint, DeliveryOutcome } from './delivery.js';

export interface DispatcherOptions {
  /**
   * How long a claim keeps other hubs off a row. An attempt may take longer (a Slack message to many
   * approvers, a slow SMTP server): the lease is renewed every third of it while the attempt runs.
   */
  leaseMs?: number;
  /** Longest sleep between looks at the outbox: other hubs write rows this one never hears of. */
  maxSleepMs?: number;
  /** Called with each attempt's outcome: `delivered`, `retry`, `dead`, `gone`, `refused` or `disabled`. */
  onOutcome?: (channel: string, outcome: string, commitToDeliveredMs: number | null) => void;
}

const DEFAULT_LEASE_MS = 60_000;
const SHORT_ERROR = 500;
/** Delivered rows (their payload may hold a large diff) are kept this long for `notify list`; failed ones until retried. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** On PostgreSQL, a row of a channel this hub lacks is given up at start only once it waited this long past due: no hub delivers it. */
const UNCLAIMED_AFTER_MS = 3_600_000;

/**
 * Delivers outbox rows after their transaction committed, off every request's path. Per endpoint it
 * claims only as many due rows as it has free slots (a slow endpoint holds its own slots, nobody
 * else's), leases them (SKIP LOCKED on PostgreSQL, so with several hubs each row goes out from one
 * at a time), sends, and files the outcome: delivered, retried on the schedule, dead-lettered after
 * the last attempt, or failed with its endpoint disabled by a 410.
 */
export class Dispatcher implements FastLane {
  /** This hub's name on the leases it takes. */
  private readonly owner = newId('hub');
  private readonly inFlight = new Map<string, number>();
  /** Rows this hub is sending now, whose leases it renews until each attempt is filed. */
  private readonly sending = new Set<string>();
  private renewTimer: TimerHandle | null = null;
  /** Slots promised to rows being written in a transaction that has not committed yet. */
  private readonly reserved = new Map<string, number>();
  /** Endpoints a 410 disabled, as of the last pass (the fast lane sends nothing to them). */
  private disabled = new Set<string>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private stopListening: () => void = () => undefined;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: Context,
    private readonly outbox: Outbox,
    private readonly options: DispatcherOptions = {},
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const { db, dialect } = this.ctx.store;
    // SQLite has one hub: leases left by a process that died are its own, free them at once.
    if (dialect === 'sqlite') await outboxStore.freeAllLeases(db);
    await this.failUnconfigured();
    // Nothing to deliver to: no polling either (on PostgreSQL, rows of channels it lacks are then swept only at start).
    if (this.outbox.endpoints.size === 0) {
      this.stopped = true;
      return;
    }
    this.stopListening = this.outbox.onWritten(() => void this.runNow());
    this.outbox.fastLane = this;
    await this.runNow();
  }

  reserve(endpoint: string): { owner: string; leaseUntil: string } | null {
    const target = this.outbox.endpoints.get(endpoint);
    if (this.stopped || !target || this.disabled.has(endpoint) || this.freeSlots(target) <= 0) return null;
    this.reserved.set(endpoint, (this.reserved.get(endpoint) ?? 0) + 1);
    return { owner: this.owner, leaseUntil: new Date(this.ctx.clock.now().getTime() + this.leaseMs).toISOString() };
  }

  release(endpoint: string): void {
    this.reserved.set(endpoint, Math.max(0, (this.reserved.get(endpoint) ?? 0) - 1));
  }

  handOff(rows: OutboxRecord[]): void {
    for (const row of rows) {
      const endpoint = this.outbox.endpointFor(row.channel, row.destination);
      if (endpoint) this.release(endpoint.key);
      // Stopped meanwhile: the row stays leased and is claimed again when the lease ends (at once on SQLite's next start).
      if (endpoint && !this.stopped) this.track(this.deliver(endpoint, row));
    }
  }

  private freeSlots(endpoint: DeliveryEndpoint): number {
    return endpoint.maxConcurrency - (this.inFlight.get(endpoint.key) ?? 0) - (this.reserved.get(endpoint.key) ?? 0);
  }

  /**
   * Stops claiming and cuts attempts in flight short; their rows are handed back, no attempt counted.
   * An attempt whose outcome came in regardless is filed first (each attempt has its own timeout).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopListening();
    if (this.outbox.fastLane === this) this.outbox.fastLane = null;
    if (this.timer) this.ctx.clock.clearTimer(this.timer);
    this.timer = null;
    if (this.renewTimer) this.ctx.clock.clearTimer(this.renewTimer);
    this.renewTimer = null;
    this.abort.abort();
    await this.running;
    await Promise.allSettled([...this.deliveries]);
    await outboxStore.freeLeasesOf(this.ctx.store.db, this.owner).catch(() => undefined);
  }

  /** Claims and starts what is due; resolves when this pass is done (deliveries go on). Tests call it after moving the clock. */
  runNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Settles once every delivery started so far has been filed (tests). */
  async idle(): Promise<void> {
    while (this.running || this.deliveries.size) {
      await this.running;
      await Promise.allSettled([...this.deliveries]);
    }
  }

  private async loop(): Promise<void> {
    do {
      try {
        do {
          this.again = false;
          await this.prune();
          this.disabled = await this.disabledEndpoints();
          for (const endpoint of this.outbox.endpoints.values()) {
            if (this.stopped) return;
            if (this.disabled.has(endpoint.key)) {
              await this.failDisabled(endpoint);
              continue;
            }
            const free = this.freeSlots(endpoint);
            if (free <= 0) continue;
            for (const row of await this.claim(endpoint, free)) {
              // Claimed again while its attempt still runs here (its lease ran out before a renewal
              // could be written): the claim renewed the lease; a second send would repeat the message.
              if (!this.sending.has(row.id)) this.track(this.deliver(endpoint, row));
            }
          }
        } while (this.again && !this.stopped);
      } catch (error) {
        this.ctx.log.error({ err: error }, 'cannot read the notification outbox; trying again shortly');
      }
      if (!this.stopped) await this.armNext();
      // Rows written while the next wake-up was being read asked for a run: they get a pass now, not
      // at that wake-up (a second later on PostgreSQL, or never under a test's manual clock).
    } while (this.again && !this.stopped);
  }

  /**
   * Rows for a webhook or channel no longer configured would wait for ever; say why instead. On
   * PostgreSQL another hub may be configured for them (a hub started with an older or smaller
   * configuration): only rows nobody leased or delivered for an hour past their due time are given
   * up, at start and then hourly, so they still end when every hub dropped the channel.
   */
  private async failUnconfigured(): Promise<void> {
    const { db, dialect } = this.ctx.store;
    const now = this.ctx.clock.now();
    const at = now.toISOString();
    const dueBefore = dialect === 'postgres' ? new Date(now.getTime() - UNCLAIMED_AFTER_MS).toISOString() : undefined;
    await outboxStore.failPendingOfChannel(db, 'webhook', [...this.outbox.webhookNames], 'no webhook of this name is configured any more', at, dueBefore);
    if (!this.outbox.email) await outboxStore.failPendingOfChannel(db, 'email', null, 'email is not configured any more (notifiers.email)', at, dueBefore);
    await outboxStore.failPendingOfChannel(db, 'teams', [...this.outbox.teamsNames], 'no Teams webhook of this name is configured any more', at, dueBefore);
    if (!this.outbox.slack) await outboxStore.failPendingOfChannel(db, 'slack', null, 'Slack is not configured any more (notifiers.slack)', at, dueBefore);
  }

  private async prune(): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    if (this.ctx.store.dialect === 'postgres') await this.failUnconfigured();
    const before = new Date(now - KEEP_DELIVERED_MS).toISOString();
    await outboxStore.pruneDelivered(this.ctx.store.db, before);
    // Email links long expired answer "not valid" rather than "expired" once their row is gone.
    await this.ctx.store.db.deleteFrom('email_actions').where('expires_at', '<', before).execute();
    await slackAlertStore.pruneBefore(this.ctx.store.db, before);
    await exclusiveClaimStore.pruneExpired(this.ctx.store.db, new Date(now).toISOString());
  }

  private track(delivery: Promise<void>): void {
    this.deliveries.add(delivery);
    detached(this.ctx.log, 'sending a notification', () => delivery.finally(() => this.deliveries.delete(delivery)));
  }

  private async disabledEndpoints(): Promise<Set<string>> {
    const rows = await this.ctx.store.db.selectFrom('notify_endpoints').select(['channel', 'name', 'url_hash']).execute();
    const disabled = new Set<string>();
    for (const row of rows) {
      const endpoint = this.outbox.endpointFor(row.channel, row.name);
      if (endpoint && endpoint.urlHash === row.url_hash) disabled.add(endpoint.key);
    }
    return disabled;
  }

  private async failDisabled(endpoint: DeliveryEndpoint): Promise<void> {
    const now = this.ctx.clock.now().toISOString();
    const failed = await outboxStore.failPendingOfEndpoint(this.ctx.store.db, endpoint, 'not sent: the endpoint was disabled after it answered 410 Gone', now);
    for (let n = 0; n < failed; n++) this.options.onOutcome?.(endpoint.channel, 'disabled', null);
  }

  private async claim(endpoint: DeliveryEndpoint, limit: number): Promise<OutboxRecord[]> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const iso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + this.leaseMs).toISOString();
    // Skipping locked rows, the claim never waits on another writer: it needs no place in the lock order.
    return inTransaction(ctx, (trx) => outboxStore.claimDue(trx, endpoint, { now: iso, leaseUntil, owner: this.owner, limit, skipLocked: ctx.store.dialect === 'postgres' }), { chainFirst: false });
  }

  private async deliver(endpoint: DeliveryEndpoint, row: OutboxRecord): Promise<void> {
    this.inFlight.set(endpoint.key, (this.inFlight.get(endpoint.key) ?? 0) + 1);
    this.sending.add(row.id);
    this.armRenewal();
    try {
      const outcome = await endpoint.send(row.id, row.payload, this.abort.signal, row);
      // `stop` hands the row back, uncounted. An outcome known despite the stop (an SMTP server
      // that accepted the message) is filed: handed back, it would go out again.
      if (outcome.kind === 'aborted') return;
      await this.file(endpoint, row, outcome);
    } catch (error) {
      this.ctx.log.error({ err: error, notification: row.id, endpoint: endpoint.key }, 'cannot record a notification attempt; it will be tried again when its lease ends');
    } finally {
      this.sending.delete(row.id);
      this.inFlight.set(endpoint.key, (this.inFlight.get(endpoint.key) ?? 1) - 1);
      if (!this.stopped) detached(this.ctx.log, 'sending due notifications', () => this.runNow());
    }
  }

  /** While attempts run, their leases are renewed every third of a lease, so no hub claims them meanwhile. */
  private armRenewal(): void {
    if (this.renewTimer || this.stopped) return;
    this.renewTimer = this.ctx.clock.setTimer(() => {
      this.renewTimer = null;
      if (!this.sending.size || this.stopped) return;
      const leaseUntil = new Date(this.ctx.clock.now().getTime() + this.leaseMs).toISOString();
      outboxStore
        .renewLeases(this.ctx.store.db, this.owner, [...this.sending], leaseUntil)
        .catch((error: unknown) => this.ctx.log.warn({ err: error }, 'cannot renew the leases of notifications being sent; another hub may send them again'))
        .finally(() => {
          if (this.sending.size) this.armRenewal();
        });
    }, this.leaseMs / 3);
  }

  /** Records one attempt's outcome, only while this hub still holds the row's lease. */
  private async file(endpoint: DeliveryEndpoint, row: OutboxRecord, outcome: Exclude<DeliveryOutcome, { kind: 'aborted' }>): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const iso = now.toISOString();
    const attempts = row.attempts + 1;
    const mine = { id: row.id, owner: this.owner };
    const released: OutboxChanges = { leaseUntil: null, leaseOwner: null, attempts, updatedAt: iso };
    const log = { notification: row.id, type: row.type, channel: endpoint.channel, [endpoint.channel]: endpoint.name, endpoint: endpoint.origin, attempts };

    if (outcome.kind === 'delivered') {
      await this.update(mine, { ...released, status: 'delivered', deliveredAt: iso, lastStatus: outcome.status, lastError: null });
      this.options.onOutcome?.(endpoint.channel, 'delivered', now.getTime() - Date.parse(row.createdAt));
      return;
    }
    if (outcome.kind === 'failed') {
      const delay = nextAttemptDelay(attempts, outcome.retryAfterMs);
      const error = outcome.error.slice(0, SHORT_ERROR);
      if (delay !== null) {
        const next = new Date(now.getTime() + delay).toISOString();
        await this.update(mine, { ...released, nextAttemptAt: next, lastStatus: outcome.status, lastError: error });
        ctx.log.info({ ...log, error, nextAttemptAt: next }, 'notification not delivered; will retry');
        this.options.onOutcome?.(endpoint.channel, 'retry', null);
        return;
      }
      await this.deadLetter(row, { ...released, status: 'failed', lastStatus: outcome.status, lastError: error }, `gave up after ${attempts} attempts: ${error}`);
      ctx.log.warn({ ...log, error }, 'notification dead-lettered after its last attempt');
      this.options.onOutcome?.(endpoint.channel, 'dead', null);
      return;
    }
    if (outcome.kind === 'skipped') {
      // Settled, not dead-lettered: nothing went wrong, and a retry would find the same.
      await this.update(mine, { ...released, status: 'failed', lastStatus: null, lastError: outcome.reason.slice(0, SHORT_ERROR) });
      ctx.log.info({ ...log, reason: outcome.reason }, 'notification no longer due; not sent');
      this.options.onOutcome?.(endpoint.channel, 'skipped', null);
      return;
    }
    if (outcome.kind === 'refused') {
      const error = outcome.error.slice(0, SHORT_ERROR);
      await this.deadLetter(row, { ...released, status: 'failed', lastStatus: outcome.status ?? null, lastError: error }, error);
      ctx.log.warn({ ...log, error }, 'notification refused; retrying would not change that');
      this.options.onOutcome?.(endpoint.channel, 'refused', null);
      return;
    }
    // 410 Gone: this endpoint is turned off until its URL changes or an admin retries one of its rows.
    await inTransaction(ctx, async (trx) => {
      if (!(await outboxStore.updateLeased(trx, row.id, this.owner, { ...released, status: 'failed', lastStatus: 410, lastError: 'the endpoint answered 410 Gone and was disabled' }))) return;
      await trx.deleteFrom('notify_endpoints').where('channel', '=', endpoint.channel).where('name', '=', endpoint.name).execute();
      await trx.insertInto('notify_endpoints').values({ channel: endpoint.channel, name: endpoint.name, url_hash: endpoint.urlHash, disabled_at: iso, reason: '410 Gone' }).execute();
      await audit(ctx, trx, {
        actor: SYSTEM_ACTOR_NAME,
        type: 'notification.endpoint_disabled',
        requestId: row.requestId,
        outcome: 'disabled',
        data: { channel: endpoint.channel, webhook: endpoint.name, endpoint: endpoint.origin, notification: row.id, status: 410 },
      });
    });
    this.disabled.add(endpoint.key);
    ctx.log.warn(log, 'webhook endpoint answered 410 Gone; disabled');
    this.options.onOutcome?.(endpoint.channel, 'gone', null);
  }

  private async update(mine: { id: string; owner: string }, changes: OutboxChanges): Promise<void> {
    await outboxStore.updateLeased(this.ctx.store.db, mine.id, mine.owner, changes);
  }

  private async deadLetter(row: OutboxRecord, changes: OutboxChanges, reason: string): Promise<void> {
    const { ctx } = this;
    await inTransaction(ctx, async (trx) => {
      if (!(await outboxStore.updateLeased(trx, row.id, this.owner, changes))) return;
      await audit(ctx, trx, {
        actor: SYSTEM_ACTOR_NAME,
        type: 'notification.dead',
        requestId: row.requestId,
        outcome: 'dead',
        data: { notification: row.id, event: row.type, channel: row.channel, destination: row.destination, attempts: changes.attempts ?? row.attempts, reason },
      });
    });
  }

  private async armNext(): Promise<void> {
    const { ctx } = this;
    let delay: number;
    try {
      const next = await outboxStore.nextDueNotLeasedBy(ctx.store.db, this.owner);
      const due = next ? Date.parse(next) - ctx.clock.now().getTime() : Infinity;
      // Due already: leased by another hub, or waiting for a free slot here; look again in a second.
      delay = due <= 0 ? 1000 : due;
    } catch {
      delay = 1000;
    }
    if (this.options.maxSleepMs !== undefined) delay = Math.min(delay, this.options.maxSleepMs);
    if (this.timer) ctx.clock.clearTimer(this.timer);
    this.timer = null;
    if (!Number.isFinite(delay) || this.stopped) return;
    this.timer = ctx.clock.setTimer(() => {
      this.timer = null;
      detached(ctx.log, 'sending due notifications', () => this.runNow());
    }, delay);
  }
}
