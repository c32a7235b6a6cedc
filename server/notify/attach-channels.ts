import type { Context } from '../domain/context.js';
import type { Outbox } from './outbox.js';
import { postForTarget, refreshMessages } from './slack/delivery.js';
import { TeamsEndpoint } from './teams/endpoint.js';

/** Chat channels read what the hub has when they send: Slack the request as it stands, Teams the hub's public address. */
export function attachChannels(outbox: Outbox, ctx: Context): void {
  outbox.slack?.attach((app, row) => (row.kind === 'post' ? postForTarget(ctx, app, row.requestId, row.target) : refreshMessages(ctx, app, row.requestId)));
  for (const endpoint of outbox.endpoints.values()) if (endpoint instanceof TeamsEndpoint) endpoint.attach(() => outbox.publicUrl ?? '');
}
