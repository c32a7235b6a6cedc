import type { Actor } from './actor.js';

/**
 * Who a token belongs to, remembered for a short while so a busy pipeline's calls don't each read
 * the users table. Only for a hub that is the sole writer of its database (SQLite): disabling a user
 * goes through this hub, which forgets that user at once. Several hubs on PostgreSQL don't cache,
 * since a user disabled on one hub must not stay usable on another.
 */
export class ActorCache {
  private readonly entries = new Map<string, { actor: Actor; until: number }>();
  /** Bumped whenever users are forgotten, so a lookup that raced a disable isn't stored. */
  private generation = 0;

  constructor(
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(tokenHash: string, nowMs: number): Actor | null {
    const entry = this.entries.get(tokenHash);
    if (!entry) return null;
    if (entry.until > nowMs) return entry.actor;
    this.entries.delete(tokenHash);
    return null;
  }

  /** A marker to take before reading the database, to hand back to `set`. */
  snapshot(): number {
    return this.generation;
  }

  /** `expiresAtMs`: the token's own end, past which the entry must not outlive it. */
  set(tokenHash: string, actor: Actor, nowMs: number, snapshot: number, expiresAtMs = Infinity): void {
    if (snapshot !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(tokenHash, { actor, until: Math.min(nowMs + this.ttlMs, expiresAtMs) });
  }

  forgetToken(tokenId: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries) if (entry.actor.tokenId === tokenId) this.entries.delete(hash);
  }

  forgetUser(userId: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.entries) if (entry.actor.id === userId) this.entries.delete(hash);
  }
}
