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
  // One transaction: a key is never rotated without its audit event. The chain head is taken first,
  // as by every writer, so concurrent rotations take turns on it and each retires the key before it.
  const result = await inTransaction(ctx, async (trx) => {
    const rotated = await ctx.keys.rotate(trx, ctx.clock.now());
    await audit(ctx, trx, { actor: actor.name, type: 'signing_key.rotated', outcome: 'rotated', data: { kid: rotated.kid, retired: rotated.retired } });
    return rotated;
  });
  // The rotation has committed: a failed re-read here must not report it failed (a retry would rotate
  // again). The periodic refresh picks the new key up.
  await ctx.keys.refresh().catch((error: unknown) => ctx.log.error({ err: error }, 'rotated the grant signing key but could not re-read the keys; the next refresh will'));
  // Other hubs publish the new key at once too: an offline verifier fetching their JWKS finds it.
  ctx.bus.emit({ type: 'signing_keys.changed' });
  ctx.log.info({ kid: result.kid, retired: result.retired }, 'grant signing key rotated');
  return result;
}
