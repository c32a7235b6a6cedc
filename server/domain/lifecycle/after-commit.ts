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

/** Announces each of these requests as it is after commit, to everyone concerned. */
export const announceEachUpdated = (ctx: Context, ids: string[]): AfterCommit => async () => (await Promise.all(ids.map((id) => announceUpdated(ctx, id)()))).flat();

/** Tells everyone concerned of requests a change of someone's access (or delegation) changed, once committed; a failure is logged, and clients catch up at their next sync. */
export async function announceChanged(ctx: Context, requestIds: string[]): Promise<void> {
  for (const id of requestIds) {
    try {
      for (const event of await announceUpdated(ctx, id)()) ctx.bus.emit(event);
    } catch (error) {
      ctx.log.warn({ err: error, requestId: id }, 'could not announce a request changed by a change of access or delegation; clients see it at their next sync');
    }
  }
}
