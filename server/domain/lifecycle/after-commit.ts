import { nobody, type Audience } from '../audience.js';
import type { HubEvent } from '../bus.js';
import type { Context } from '../context.js';
import { buildView } from '../request-view.js';

/** What to announce once the transaction that applied a deadline has committed. */
export type AfterCommit = () => Promise<HubEvent[]>;

/** Announces the request as it is after commit, to everyone concerned. */
export const announceUpdated = (ctx: Context, id: string, also: Audience = nobody()): AfterCommit => async () => {
  const row = await ctx.store.db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return [{ type: 'request.updated', request: await buildView(ctx.store.db, row, { id: row.requester_id }), notify: also }];
};
