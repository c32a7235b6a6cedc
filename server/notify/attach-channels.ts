import type { Context } from '../domain/context.js';
import type { Outbox } from './outbox.js';
import { whyNoLongerDue } from './email-still-due.js';
import { renewEmailLinks } from './email-links.js';
import { postAlertForTarget } from './slack/alert.js';
import type { SlackApp, SlackRow } from './slack/app.js';
import { postForTarget, refreshMessages } from './slack/delivery.js';
import { TeamsEndpoint } from './teams/endpoint.js';
import { whyCardNoLongerDue } from './teams/still-due.js';

/**
 * Channels read what the hub has when they send: Slack the request as it stands, Teams the hub's
 * public address and whether its card still calls for someone, email whether its request and recipient
 * still call for it (and then renews its links, as it goes out now). Generic webhooks get no such
 * check on purpose: they are an event record for machines, which get every event that happened, late or not.
 */
export function attachChannels(outbox: Outbox, ctx: Context): void {
  outbox.email?.attach({
    noLongerDue: (payload) => whyNoLongerDue(ctx.store.db, payload, ctx.clock.now()),
    renewLinks: (id, payload, key) => renewEmailLinks(ctx.store.db, key, id, payload, ctx.clock.now()),
  });
  outbox.slack?.attach((app, row, notificationId, signal) => sendSlackRow(ctx, app, row, notificationId, signal));
  for (const endpoint of outbox.endpoints.values()) if (endpoint instanceof TeamsEndpoint) endpoint.attach(() => outbox.publicUrl ?? '', (row) => whyCardNoLongerDue(ctx.store.db, row));
}

/** Null once done; why nothing was posted when the row is no longer due. */
async function sendSlackRow(ctx: Context, app: SlackApp, row: SlackRow, notificationId: string, signal: AbortSignal): Promise<string | null> {
  if (row.kind === 'alert') return postAlertForTarget(ctx, app, notificationId, row);
  if (row.kind === 'post') await postForTarget(ctx, app, row.requestId, row.target, signal);
  else await refreshMessages(ctx, app, row.requestId);
  return null;
}
