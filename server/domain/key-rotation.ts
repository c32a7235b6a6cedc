import { requireAdmin } from './users.js';
import { audit, inTransaction, type Context } from './context.js';
import type { Actor } from './actor.js';

export interface RotationResult {
  kid: string;
  retired: string[];
}

/** A new grant signing key from now on; the old one stays in the JWKS until every grant it signed has expired. Admins only; audited. */
export async function rotateSigningKey(ctx: Context, actor: Actor): Promise<RotationResult> {
  requireAdmin(actor);
  const result = await ctx.keys.rotate(ctx.clock.now());
  await inTransaction(ctx, (trx) =>
    audit(ctx, trx, { actor: actor.name, type: 'signing_key.rotated', outcome: 'rotated', data: { kid: result.kid, retired: result.retired } }),
  );
  ctx.log.info({ kid: result.kid, retired: result.retired }, 'grant signing key rotated');
  return result;
}
