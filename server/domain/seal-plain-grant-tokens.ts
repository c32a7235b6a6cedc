import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { grantStore } from '../store/grants.js';
import type { GrantTokenSeal } from '../keys/grant-token-seal.js';

const PER_TRANSACTION = 500;

/**
 * Seals the tokens that a hub from before sealing stored in plain, for every grant not yet expired
 * (an expired token is refused everywhere); returns how many. Each is replaced only if still as
 * read, so hubs starting together don't seal one twice.
 */
export async function sealPlainGrantTokens(db: Kysely<Database>, seal: Pick<GrantTokenSeal, 'seal'>, now: Date): Promise<number> {
  const plain = await grantStore.unexpiredInPlain(db, now.toISOString());
  for (let start = 0; start < plain.length; start += PER_TRANSACTION) {
    await db.transaction().execute(async (trx) => {
      for (const grant of plain.slice(start, start + PER_TRANSACTION)) await grantStore.replaceToken(trx, grant.jti, grant.token, seal.seal(grant, grant.token));
    });
  }
  return plain.length;
}
