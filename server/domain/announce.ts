import type { GreenlightRequest } from '../../protocol/index.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';
import { nobody, type Audience } from './audience.js';
import type { Context } from './context.js';
import { buildView, withoutSecrets, viewReader } from './request-view.js';

const asSeenBy = (full: GreenlightRequest, row: RequestRecord, viewer: Actor | null): GreenlightRequest => (viewer && viewer.id !== row.requester_id ? withoutSecrets(full) : full);

/** Builds the views after commit, tells everyone concerned, and returns the caller's view. */
export async function announce(ctx: Context, row: RequestRecord, viewer: Actor | null, also: Audience = nobody()): Promise<GreenlightRequest> {
  const full = await buildView(viewReader(ctx), row, { id: row.requester_id });
  ctx.bus.emit({ type: 'request.updated', request: full, notify: also });
  return asSeenBy(full, row, viewer);
}

/** The caller's view, as `announce` returns it, of a request a call left as it was: nobody is told anything. */
export async function unchanged(ctx: Context, row: RequestRecord, viewer: Actor | null): Promise<GreenlightRequest> {
  return asSeenBy(await buildView(viewReader(ctx), row, { id: row.requester_id }), row, viewer);
}
