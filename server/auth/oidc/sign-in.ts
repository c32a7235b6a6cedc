import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { GreenlightError } from '../../../protocol/index.js';
import { inTransaction, type Context } from '../../domain/context.js';
import { hashToken } from '../../domain/tokens.js';
import { issueSessionToken } from '../../identity/session-tokens.js';
import type { OidcSettings } from './config.js';
import { ProviderClient, reasonOf } from './provider-client.js';
import { identityFromClaims, provisionUser } from './provision.js';

/** How long someone may take at the provider's login page. */
const LOGIN_TTL_MS = 10 * 60_000;
/** How long the desktop app has to fetch its session once the browser is back on its loopback address. */
const HANDOFF_TTL_MS = 2 * 60_000;

/** A loopback address the desktop app listens on (RFC 8252 §7.3): http, 127.0.0.1 or [::1], any port, path /callback. */
export function isLoopbackRedirect(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]') && url.pathname === '/callback' && !url.search && !url.hash;
  } catch {
    return false;
  }
}

export type Finished = { kind: 'console'; token: string } | { kind: 'desktop'; redirect: string };

/** Refusals of a sign-in, answered with a page that says what happened; nothing is created. */
export class SignInRefused extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where the browser goes back to the desktop app, carrying the app's own state for it to check (RFC 8252 §8.9). */
function desktopRedirect(desktop: { redirect: string; state?: string | undefined }): string {
  const redirect = new URL(desktop.redirect);
  if (desktop.state) redirect.searchParams.set('state', desktop.state);
  return redirect.href;
}

const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** The authorization code flow with PKCE, state and nonce, through `openid-client`; the hub is the confidential client. */
export class OidcSignIn {
  private readonly provider: ProviderClient;

  constructor(
    private readonly ctx: Context,
    readonly settings: OidcSettings,
    /** Where the provider sends the browser back: `<public URL>/auth/oidc/callback`. */
    private readonly redirectUri: () => string,
  ) {
    this.provider = new ProviderClient(settings);
  }

  /** The origin the callback is addressed to, to rebuild the full URL the provider redirected to. */
  callbackBase(): string {
    return new URL(this.redirectUri()).origin;
  }

  /** The provider's authorization URL for a new sign-in, and the state the browser must bring back. */
  async start(desktop?: { redirect: string; challenge: string; state?: string | undefined }): Promise<{ url: string; state: string }> {
    const configuration = await this.provider.get();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const now = this.ctx.clock.now();
    await this.ctx.store.db.deleteFrom('oidc_logins').where('created_at', '<', new Date(now.getTime() - LOGIN_TTL_MS).toISOString()).execute();
    // Hand-offs the desktop app never came back for: only redeeming deletes one, and an expired one is refused anyway.
    await this.ctx.store.db.deleteFrom('oidc_handoffs').where('expires_at', '<=', now.toISOString()).execute();
    await this.ctx.store.db
      .insertInto('oidc_logins')
      .values({ state, verifier, nonce, desktop_redirect: desktop ? desktopRedirect(desktop) : null, desktop_challenge: desktop?.challenge ?? null, created_at: now.toISOString() })
      .execute();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri(),
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /** Finishes a sign-in from the URL the provider sent the browser back to. `cookieState` is what this browser started. */
  async finish(callbackUrl: URL, cookieState: string | null): Promise<Finished> {
    const providerError = callbackUrl.searchParams.get('error');
    if (providerError) {
      const description = callbackUrl.searchParams.get('error_description') ?? '';
      throw new SignInRefused(400, 'The identity provider refused the sign-in', `${providerError}${description ? `: ${description}` : ''}. Nothing was changed.`);
    }
    const state = callbackUrl.searchParams.get('state') ?? '';
    // It writes nothing to the audit chain and waits only on its own row: no place in the writers' lock order.
    const login = await inTransaction(
      this.ctx,
      async (trx) => {
        const row = await trx.selectFrom('oidc_logins').selectAll().where('state', '=', state).executeTakeFirst();
        // Used once: a replayed callback finds nothing.
        if (row) await trx.deleteFrom('oidc_logins').where('state', '=', state).execute();
        return row;
      },
      { chainFirst: false },
    );
    const fresh = login && Date.parse(login.created_at) > this.ctx.clock.now().getTime() - LOGIN_TTL_MS;
    // The desktop app's sign-in runs in the system browser too, which the login page gave the cookie:
    // without it, a sign-in someone else started would hand their app a session as whoever finished it.
    if (!login || !fresh || cookieState !== state) {
      throw new SignInRefused(400, 'This sign-in link is not valid', 'The sign-in state does not match one this browser started here (it was used already, is too old, or came from elsewhere). Nothing was changed; start again from the sign-in page.');
    }
    // Tokens are checked against the hub's clock, the one everything else here uses.
    const configuration = await this.provider.withClockSkew(Math.round((this.ctx.clock.now().getTime() - Date.now()) / 1000));
    const checked = new URL(callbackUrl.href);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, checked, { pkceCodeVerifier: login.verifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true });
      claims = { ...(tokens.claims() ?? {}) };
    } catch (error) {
      throw new SignInRefused(400, 'The sign-in could not be completed', `${describeGrantFailure(error)} Nothing was changed; start again from the sign-in page.`);
    }
    const identity = (() => {
      try {
        return identityFromClaims(claims, this.settings);
      } catch (error) {
        throw new SignInRefused(400, 'The identity provider sent an unusable identity', error instanceof Error ? error.message : String(error));
      }
    })();
    const provisioned = await provisionUser(this.ctx, this.settings, identity);
    if ('refused' in provisioned) throw new SignInRefused(403, 'You may not sign in to Greenlight', provisioned.refused);
    const user = { id: provisioned.userId, name: provisioned.name };
    if (login.desktop_redirect && login.desktop_challenge) {
      const code = randomBytes(32).toString('base64url');
      await this.ctx.store.db
        .insertInto('oidc_handoffs')
        .values({ code_hash: hashToken(code), user_id: user.id, challenge: login.desktop_challenge, expires_at: new Date(this.ctx.clock.now().getTime() + HANDOFF_TTL_MS).toISOString() })
        .execute();
      const redirect = new URL(login.desktop_redirect);
      redirect.searchParams.set('code', code);
      return { kind: 'desktop', redirect: redirect.href };
    }
    const session = await inTransaction(this.ctx, (trx) => issueSessionToken(this.ctx, trx, user, 'console'));
    return { kind: 'console', token: session.token };
  }

  /** The desktop app trades the one-time code and its PKCE verifier for a session token. Any attempt uses the code up. */
  async redeemHandoff(code: string, verifier: string): Promise<{ token: string; expiresAt: string; user: string }> {
    const row = await inTransaction(
      this.ctx,
      async (trx) => {
        const found = await trx.selectFrom('oidc_handoffs').selectAll().where('code_hash', '=', hashToken(code)).executeTakeFirst();
        if (found) await trx.deleteFrom('oidc_handoffs').where('code_hash', '=', found.code_hash).execute();
        return found;
      },
      { chainFirst: false },
    );
    if (!row || Date.parse(row.expires_at) <= this.ctx.clock.now().getTime() || pkceChallenge(verifier) !== row.challenge) {
      throw new GreenlightError('UNAUTHENTICATED', 'This sign-in code is not valid (used already, too old, or not from this app). Sign in again.');
    }
    return inTransaction(this.ctx, async (trx) => {
      const user = await trx.selectFrom('users').select(['id', 'name', 'disabled']).where('id', '=', row.user_id).executeTakeFirstOrThrow();
      if (user.disabled === 1) throw new GreenlightError('UNAUTHENTICATED', `${user.name} is disabled. Ask a Greenlight admin.`);
      const session = await issueSessionToken(this.ctx, trx, user, 'desktop');
      return { token: session.token, expiresAt: session.expiresAt, user: user.name };
    });
  }
}

/** What went wrong with the code exchange or the ID token, in words. */
function describeGrantFailure(error: unknown): string {
  const text = reasonOf(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  const oauthError = typeof error === 'object' && error !== null && 'error' in error ? String((error as { error: unknown }).error) : '';
  if (oauthError === 'invalid_grant') return 'The identity provider did not accept the sign-in code: it was used already or has expired.';
  if (/nonce/i.test(text)) return 'The ID token was not issued for this sign-in (nonce mismatch).';
  if (/"exp"|expired|timestamp check failed/i.test(text)) return 'The ID token has expired (check that the clocks of the hub and the identity provider agree).';
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || /fetch failed|ECONNREFUSED|timed? ?out/i.test(text)) return `The identity provider could not be reached (${text}).`;
  return `The identity provider's answer was not accepted (${text}).`;
}
