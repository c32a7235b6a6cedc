import type { Kysely } from 'kysely';
import { isEligible, reviewsFor, type GreenlightRequest } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Database } from '../store/schema.js';
import { delegationStore } from '../store/delegations.js';

interface Entry {
  from: string;
  fromGroups: string[];
  fromRoles: string[];
  to: string;
  startsAt: string;
  endsAt: string;
  rules: string[] | null;
}

/** How often delegations are read again, should a change announced by another hub have been lost. */
const REFRESH_MS = 30_000;

/**
 * Delegations not yet over, in memory, so a push can reach the delegates of the people it goes to
 * without a query per event. Only for notifications: whether a delegate may decide is read from the
 * database when they decide.
 */
export class DelegateIndex {
  private entries: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Whom each delegate stood in for at the last look, as one comparable text. */
  private standingIn = new Map<string, string>();
  private readonly changeListeners = new Set<(delegates: string[]) => void>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  async refresh(): Promise<void> {
    const found = await delegationStore.notOver(this.db, this.clock.now().toISOString());
    this.entries = found.map(({ delegation, delegator }) => ({
      from: delegator.name,
      fromGroups: delegator.groups,
      fromRoles: delegator.roles,
      to: delegation.toName,
      startsAt: delegation.startsAt,
      endsAt: delegation.endsAt,
      rules: delegation.rules,
    }));
    this.noticeChanges();
  }

  /**
   * Told, at each read, of the delegates whose delegations in force changed since the last: one made
   * or ended, one whose window opened or closed, or whose delegator's groups changed. Their apps sync
   * again, so their inbox, tray and notifications follow whom they decide for now.
   */
  onDelegatesChanged(listener: (delegates: string[]) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private noticeChanges(): void {
    const now = this.clock.now().toISOString();
    const parts = new Map<string, string[]>();
    for (const entry of this.entries) {
      if (entry.startsAt > now || now >= entry.endsAt) continue;
      const part = JSON.stringify([entry.from, [...entry.fromGroups].sort(), [...entry.fromRoles].sort(), entry.rules]);
      parts.set(entry.to, [...(parts.get(entry.to) ?? []), part]);
    }
    const next = new Map([...parts].map(([delegate, list]) => [delegate, list.sort().join('\n')]));
    const changed = [...new Set([...next.keys(), ...this.standingIn.keys()])].filter((delegate) => next.get(delegate) !== this.standingIn.get(delegate));
    this.standingIn = next;
    if (changed.length) for (const listener of this.changeListeners) listener(changed);
  }

  start(onError: (error: unknown) => void): void {
    this.timer ??= setInterval(() => this.refresh().catch(onError), this.refreshMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Delegates in their window whose delegator the request waits on, or who reviews it when it is a
   * break-glass use (told of it and of its review closing, as the reviewers are); never for the
   * delegate's or the delegator's own request.
   */
  delegatesFor(request: GreenlightRequest): string[] {
    if ((request.status !== 'pending' && !request.breakGlass) || this.entries.length === 0) return [];
    const now = this.clock.now().toISOString();
    const out = new Set<string>();
    for (const entry of this.entries) {
      if (entry.startsAt > now || now >= entry.endsAt) continue;
      if (request.requester === entry.from || request.requester === entry.to) continue;
      if (entry.rules && !entry.rules.includes(request.rule.name)) continue;
      const delegator = { name: entry.from, groups: entry.fromGroups, roles: entry.fromRoles };
      if (request.breakGlass ? reviewsFor(request, delegator).length > 0 : isEligible(request, delegator)) out.add(entry.to);
    }
    return [...out];
  }
}
