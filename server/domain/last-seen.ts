import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';

/**
 * When each user last made an authenticated call, for admins to see who still uses the hub.
 * A busy pipeline authenticates many times a second, so the time is written at most once per user
 * and interval, after the call that used the token (on the next turn of the event loop), and a
 * failed write is logged, never reported to the caller.
 */
export class LastSeen {
  /** When each user's (`u:`) and token's (`t:`) time was last taken for writing, in ms. */
  private readonly taken = new Map<string, number>();
  private readonly due = new Map<string, string>();
  private writing: Promise<void> | null = null;
  private written = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly intervalMs = 60_000,
    private readonly maxUsers = 100_000,
  ) {}

  /** `tokenId`: the token the call used, whose own last use is recorded the same way. */
  touch(userId: string, now: Date, tokenId?: string): void {
    this.take(`u:${userId}`, now);
    if (tokenId) this.take(`t:${tokenId}`, now);
  }

  private take(key: string, now: Date): void {
    const ms = now.getTime();
    const last = this.taken.get(key);
    if (last !== undefined && ms - last < this.intervalMs && ms >= last) return;
    if (this.taken.size >= this.maxUsers) this.taken.clear();
    this.taken.set(key, ms);
    this.due.set(key, now.toISOString());
    this.writing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.write());
  }

  /** Rows this hub has updated, for tests that check a refused call wrote nothing else. */
  get rowsWritten(): number {
    return this.written;
  }

  /** Resolves once every time taken so far is written (the hub calls it before closing the database). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async write(): Promise<void> {
    const batch = [...this.due];
    this.due.clear();
    try {
      for (const [key, at] of batch) {
        const id = key.slice(2);
        // Several hubs may write for one user: a later time is never overwritten by an earlier one.
        const result = key.startsWith('t:')
          ? await this.db
              .updateTable('tokens')
              .set({ last_used_at: at })
              .where('id', '=', id)
              .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
              .executeTakeFirst()
          : await this.db
              .updateTable('users')
              .set({ last_seen_at: at })
              .where('id', '=', id)
              .where((eb) => eb.or([eb('last_seen_at', 'is', null), eb('last_seen_at', '<', at)]))
              .executeTakeFirst();
        this.written += Number(result.numUpdatedRows);
      }
    } catch (error) {
      this.log.warn({ err: error }, 'could not record when users were last seen');
    } finally {
      this.writing = this.due.size > 0 ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.write()) : null;
    }
  }
}
