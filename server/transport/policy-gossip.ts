import type { Logger } from 'pino';
import { z } from 'zod';
import { hubPolicySchema, type HubPolicy, type PolicyAgreement } from '../domain/policy-agreement.js';
import type { ClusterMembership } from './cluster-adapter.js';
import type { HubServer } from './hub-server.js';

const DIGEST_EVENT = 'policy:digest';

/** A hub's policy as it tells the others, and whether it wants every hub's in return. */
const announcementSchema = hubPolicySchema.extend({ askBack: z.boolean() });
type Announcement = HubPolicy & { askBack: boolean };

/**
 * Hubs on one database tell each other the digest of the policy they run: each on its start, after
 * each reload (`announce`), and in answer to a hub it had not heard from, so a hub that joins later
 * learns the others' digests. When the count of hubs grows (a hub started, or this hub hears again
 * hubs it lost track of while it could not hear them), a hub asks every other for its digest.
 * A hub answers only an ask or a hub new to it, and an answer never asks back, so each
 * announcement draws at most one answer from each hub: no ping-pong. A hub that leaves is forgotten.
 */
export function exchangePolicyDigests(io: HubServer, cluster: ClusterMembership, agreement: PolicyAgreement, log: Logger): { announce(): void } {
  const send = (askBack: boolean) => {
    const announcement: Announcement = { ...agreement.ownPolicy(), askBack };
    io.serverSideEmit(DIGEST_EVENT, announcement);
  };
  io.on(DIGEST_EVENT, (raw: unknown) => {
    const parsed = announcementSchema.safeParse(raw);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 3).map((issue) => issue.message) }, 'ignored a policy digest from another hub that is not in the form this hub knows: is every hub the same version?');
      return;
    }
    const { askBack, ...policy } = parsed.data;
    if (policy.hub === cluster.hubId) return;
    const isNew = agreement.heard(policy);
    if (isNew || askBack) send(false);
  });
  cluster.onPeerLeft((hub) => agreement.left(hub));
  cluster.onPeersJoined(() => send(true));
  send(true);
  return { announce: () => send(false) };
}
