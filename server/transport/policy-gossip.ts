import type { Logger } from 'pino';
import { hubPolicySchema, type PolicyAgreement } from '../domain/policy-agreement.js';
import type { ClusterMembership } from './cluster-adapter.js';
import type { HubServer } from './hub-server.js';

const DIGEST_EVENT = 'policy:digest';

/**
 * Hubs on one database tell each other the digest of the policy they run: each on its start, after
 * each reload (`announce`), and in answer to a hub it had not heard from, so a hub that joins later
 * learns the others' digests. An answer goes only to a hub new to this one, so two hubs answer each
 * other at most once and never ping-pong. A hub that leaves is forgotten.
 */
export function exchangePolicyDigests(io: HubServer, cluster: ClusterMembership, agreement: PolicyAgreement, log: Logger): { announce(): void } {
  const announce = () => io.serverSideEmit(DIGEST_EVENT, agreement.ownPolicy());
  io.on(DIGEST_EVENT, (raw: unknown) => {
    const parsed = hubPolicySchema.safeParse(raw);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 3).map((issue) => issue.message) }, 'ignored a policy digest from another hub that is not in the form this hub knows: is every hub the same version?');
      return;
    }
    if (parsed.data.hub === cluster.hubId) return;
    if (agreement.heard(parsed.data)) announce();
  });
  cluster.onPeerLeft((hub) => agreement.left(hub));
  announce();
  return { announce };
}
