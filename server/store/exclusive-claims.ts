import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Claims on work that one hub at a time may do, each a single statement: none waits on another. */
export const exclusiveClaimStore = {
  /**
   * Takes `key` for `owner` until `leaseUntil`: when nobody holds it, when its holder's lease ended by
   * `now` (that hub died or stalled mid-work), or when `owner` holds it already. False while another
   * hub's lease runs.
   */
  async take(db: Kysely<Database>, key: string, owner: string, now: string, leaseUntil: string): Promise<boolean> {
    const taken = await db
      .insertInto('exclusive_claims')
      .values({ key, owner, lease_until: leaseUntil })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ owner, lease_until: leaseUntil })
          .where((eb) => eb.or([eb('exclusive_claims.lease_until', '<=', now), eb('exclusive_claims.owner', '=', owner)])),
      )
      .returning('key')
      .executeTakeFirst();
    return taken !== undefined;
  },

  /** Extends `owner`'s claim; false when it is no longer theirs (another hub took it over). */
  async renew(db: Kysely<Database>, key: string, owner: string, leaseUntil: string): Promise<boolean> {
    const renewed = await db.updateTable('exclusive_claims').set({ lease_until: leaseUntil }).where('key', '=', key).where('owner', '=', owner).executeTakeFirst();
    return Number(renewed.numUpdatedRows) > 0;
  },

  async release(db: Kysely<Database>, key: string, owner: string): Promise<void> {
    await db.deleteFrom('exclusive_claims').where('key', '=', key).where('owner', '=', owner).execute();
  },

  /** Claims whose lease ended count as free already; their rows (left by hubs that died) are dropped. */
  async pruneExpired(db: Kysely<Database>, now: string): Promise<void> {
    await db.deleteFrom('exclusive_claims').where('lease_until', '<', now).execute();
  },
};
