import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { outboxStore, type OutboxRecord } from './outbox.js';
import { slackAlertStore } from './slack-alerts.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const old = '2026-12-01T00:00:00.000Z';
const recent = '2026-12-09T00:00:00.000Z';
const before = '2026-12-02T00:00:00.000Z';
const alertRow = (id: string, status: OutboxRecord['status']): OutboxRecord => ({
  id,
  type: 'request.break_glass',
  channel: 'slack',
  destination: 'slack:dm',
  requestId: 'req_1',
  payload: '{"kind":"alert"}',
  status,
  attempts: 1,
  nextAttemptAt: old,
  leaseUntil: null,
  leaseOwner: null,
  lastError: null,
  lastStatus: null,
  createdAt: old,
  updatedAt: old,
  deliveredAt: status === 'delivered' ? old : null,
});

/** Alerts posted, by delivery and channel: what a retried delivery skips, and when they are forgotten. */
describe.each(await storeKinds())('Slack alerts posted on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('a delivery knows the channels it alerted; the same post recorded twice is kept once', async () => {
    await slackAlertStore.insert(store.db, { notificationId: 'ntf_a', channelId: 'DU0BOB', createdAt: old });
    await slackAlertStore.insert(store.db, { notificationId: 'ntf_a', channelId: 'DU0BOB', createdAt: recent });
    await slackAlertStore.insert(store.db, { notificationId: 'ntf_a', channelId: 'DU0CAROL', createdAt: old });
    await slackAlertStore.insert(store.db, { notificationId: 'ntf_b', channelId: 'DU0ERIN', createdAt: old });
    expect(await slackAlertStore.channelsOf(store.db, 'ntf_a')).toEqual(new Set(['DU0BOB', 'DU0CAROL']));
    expect(await slackAlertStore.channelsOf(store.db, 'ntf_c')).toEqual(new Set());
  });

  it.skipIf(skip)('old posts are forgotten once their delivery is no longer pending; a pending one keeps them, however old', async () => {
    await outboxStore.insert(store.db, [alertRow('ntf_pending', 'pending'), alertRow('ntf_done', 'delivered'), alertRow('ntf_dead', 'failed')]);
    for (const notificationId of ['ntf_pending', 'ntf_done', 'ntf_dead']) await slackAlertStore.insert(store.db, { notificationId, channelId: 'DU0BOB', createdAt: old });
    await slackAlertStore.insert(store.db, { notificationId: 'ntf_done', channelId: 'DU0CAROL', createdAt: recent });
    await slackAlertStore.pruneBefore(store.db, before);
    expect(await slackAlertStore.channelsOf(store.db, 'ntf_pending')).toEqual(new Set(['DU0BOB']));
    expect(await slackAlertStore.channelsOf(store.db, 'ntf_done')).toEqual(new Set(['DU0CAROL']));
    expect(await slackAlertStore.channelsOf(store.db, 'ntf_dead')).toEqual(new Set());
    // Rows pruned from the outbox (or never there) leave nothing behind either.
    expect(await slackAlertStore.channelsOf(store.db, 'ntf_a')).toEqual(new Set());
  });
});
