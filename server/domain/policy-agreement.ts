import type { Logger } from 'pino';
import { z } from 'zod';
import { shortDigest } from './policy-digest.js';

/** What a hub tells the others on its database about the policy it runs. */
export const hubPolicySchema = z.strictObject({
  /** The hub's id among its peers (its cluster adapter's), new at each start. */
  hub: z.string().min(1).max(64),
  /** Where it runs, for the admin: its host name and its URL. */
  host: z.string().max(255),
  url: z.string().max(2048),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /** Its policy file, or null for the built-in rule. */
  file: z.string().max(4096).nullable(),
});
export type HubPolicy = z.infer<typeof hubPolicySchema>;

/** Another hub as this one last heard of it, and whether it runs this hub's policy. */
export interface PeerPolicy extends HubPolicy {
  samePolicy: boolean;
}

export const DEPLOY_SAME_POLICY = 'Deploy the same policy file to every hub: until they agree, a request may be allowed or refused depending on which hub the load balancer picks.';

const where = (policy: HubPolicy): string => `${policy.host} (${policy.url})`;
const fileOf = (policy: HubPolicy): string => policy.file ?? 'the built-in rule';

/**
 * The policy digests of the other hubs on this database, as they announced them, against this
 * hub's own. A hub running another policy is warned of once per pair of digests (a rolling update
 * passes through this), and the warning is taken back when they agree again.
 */
export class PolicyAgreement {
  private readonly peers = new Map<string, { policy: HubPolicy; warnedOf: string | null }>();
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly own: () => HubPolicy,
    private readonly log: Logger,
  ) {}

  ownPolicy(): HubPolicy {
    return this.own();
  }

  /** Takes another hub's announcement; returns whether that hub was new to this one (it has yet to hear this hub's digest). */
  heard(policy: HubPolicy): boolean {
    const known = this.peers.get(policy.hub);
    const peer = known ?? { policy, warnedOf: null };
    peer.policy = policy;
    this.peers.set(policy.hub, peer);
    this.compare(peer);
    this.changed();
    return known === undefined;
  }

  /** This hub's policy changed (a reload): compared with every other hub's again. */
  ownChanged(): void {
    for (const peer of this.peers.values()) this.compare(peer);
    this.changed();
  }

  /** A hub left the cluster: its policy no longer counts. */
  left(hub: string): void {
    const peer = this.peers.get(hub);
    if (!peer) return;
    this.peers.delete(hub);
    this.changed();
    if (peer.warnedOf) this.log.info({ hub: where(peer.policy), digest: shortDigest(peer.policy.digest) }, `the hub at ${where(peer.policy)}, whose policy differed from this one's, left the cluster`);
  }

  /** Calls `listener` after each announcement heard, reload of this hub's policy, and hub that left: what `peersHeard` says may have changed. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Every other hub heard from, by host and URL. */
  peersHeard(): PeerPolicy[] {
    const ownDigest = this.own().digest;
    return [...this.peers.values()]
      .map(({ policy }) => ({ ...policy, samePolicy: policy.digest === ownDigest }))
      .sort((a, b) => where(a).localeCompare(where(b)));
  }

  /** How many other hubs run another policy than this one. */
  disagreeing(): number {
    return this.peersHeard().filter((peer) => !peer.samePolicy).length;
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  private compare(peer: { policy: HubPolicy; warnedOf: string | null }): void {
    const own = this.own();
    const other = peer.policy;
    if (other.digest === own.digest) {
      if (peer.warnedOf) this.log.info({ hub: where(other), digest: shortDigest(own.digest) }, `the hub at ${where(other)} runs the same policy as this one again (${shortDigest(own.digest)})`);
      peer.warnedOf = null;
      return;
    }
    const pair = `${own.digest}:${other.digest}`;
    if (peer.warnedOf === pair) return;
    peer.warnedOf = pair;
    this.log.warn(
      { hub: where(other), digest: shortDigest(own.digest), file: fileOf(own), otherDigest: shortDigest(other.digest), otherFile: fileOf(other) },
      `this hub runs policy ${shortDigest(own.digest)} from ${fileOf(own)}, but the hub at ${where(other)} runs ${shortDigest(other.digest)} from ${fileOf(other)}. ${DEPLOY_SAME_POLICY}`,
    );
  }
}
