import { nobody, type Audience } from '../audience.js';
import type { HubEvent } from '../bus.js';
import type { Context } from '../context.js';
import { buildView, viewReader } from '../request-view.js';
import { requestStore } from '../../store/requests.js';

/** What to announce once the transaction that applied a deadline has committed. */
export type AfterCommit = () => Promise<HubEvent[]>;

/** Announces the request as it is after commit, to everyone concerned. */
export const announceUpdated = (ctx: Context, id: string, also: Audience = nobody()): AfterCommit => async () => {
  const row = await requestStore.existing(ctx.store.db, id);
  return [{ type: 'request.updated', request: await buildView(viewReader(ctx), row, { id: row.requester_id }), notify: also }];
};
