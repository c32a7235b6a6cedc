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

/**
 * A request a transaction changed, to announce once committed: to everyone it concerns as it now
 * stands, and to `also`, whom the change left out of them (the delegate whose claim on it was
 * released, whose app still shows it as theirs).
 */
export interface ChangedRequest {
  id: string;
  also: Audience;
}

export const changedRequest = (id: string, alsoTell: string[] = []): ChangedRequest => ({ id, also: { groups: [], users: alsoTell } });

/** One entry per request, in the order first named, telling everyone any of its entries named. */
export function onceEach(changes: readonly ChangedRequest[]): ChangedRequest[] {
  const merged = new Map<string, { groups: Set<string>; users: Set<string> }>();
  for (const { id, also } of changes) {
    const audience = merged.get(id) ?? { groups: new Set<string>(), users: new Set<string>() };
    for (const group of also.groups) audience.groups.add(group);
    for (const user of also.users) audience.users.add(user);
    merged.set(id, audience);
  }
  return [...merged].map(([id, { groups, users }]) => ({ id, also: { groups: [...groups], users: [...users] } }));
}

/**
 * Announces each of these requests as it is after commit. One that cannot be read back is logged and
 * left out, and the others are still announced; clients see it at their next sync.
 */
export const announceEachUpdated = (ctx: Context, changes: readonly ChangedRequest[]): AfterCommit => async () => {
  const requests = onceEach(changes);
  const announced = await Promise.allSettled(requests.map(({ id, also }) => announceUpdated(ctx, id, also)()));
  return announced.flatMap((outcome, i) => {
    if (outcome.status === 'fulfilled') return outcome.value;
    ctx.log.warn({ err: outcome.reason, requestId: requests[i]?.id }, 'could not announce a changed request; clients see it at their next sync');
    return [];
  });
};

/** Tells everyone concerned of requests a committed change (of someone's access, or a delegation) changed. */
export async function announceChanged(ctx: Context, changes: readonly ChangedRequest[]): Promise<void> {
  for (const event of await announceEachUpdated(ctx, changes)()) ctx.bus.emit(event);
}
