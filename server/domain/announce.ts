import type { GreenlightRequest } from '../../protocol/index.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';
import { nobody, type Audience } from './audience.js';
import type { Context } from './context.js';
import { buildView, withoutSecrets, viewReader } from './request-view.js';

/** Builds the views after commit, tells everyone concerned, and returns the caller's view. */
export async function announce(ctx: Context, row: RequestRecord, viewer: Actor | null, also: Audience = nobody()): Promise<GreenlightRequest> {
  const full = await buildView(viewReader(ctx), row, { id: row.requester_id });
  ctx.bus.emit({ type: 'request.updated', request: full, notify: also });
  return viewer && viewer.id !== row.requester_id ? withoutSecrets(full) : full;
}
