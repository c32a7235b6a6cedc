import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { tokenStore, type OwnedToken } from '../store/tokens.js';

export type FoundToken = OwnedToken & { groups: string[] };
export type TokenLookups = DataLoader<string, FoundToken | undefined>;

/**
 * Token lookups that arrive together (calls read from the sockets in one pass of the event loop)
 * go to the database as one statement: a busy pipeline on PostgreSQL, where tokens are not cached,
 * otherwise pays a round trip per call. Nothing is remembered between batches, so a token revoked
 * on another hub is refused from the next call on.
 */
export function tokenLookups(db: Kysely<Database>): TokenLookups {
  return new DataLoader<string, FoundToken | undefined>(
    async (hashes) => {
      const found = await tokenStore.withOwnersAndGroupsByHashes(db, [...new Set(hashes)]);
      return hashes.map((hash) => found.get(hash));
    },
    { cache: false, maxBatchSize: 500, batchScheduleFn: (callback) => setImmediate(callback) },
  );
}
