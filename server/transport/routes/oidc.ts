import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { GreenlightError, parseOrThrow } from '../../../protocol/index.js';
import { isLoopbackRedirect, SignInRefused, type OidcSignIn } from '../../auth/oidc/sign-in.js';
import { signInPage } from '../../auth/oidc/pages.js';
import { HIDDEN } from '../route-docs.js';

/** The browser's half of a sign-in: which state it started, so a callback it did not start is refused. */
const STATE_COOKIE = 'greenlight_oidc_state';

const loginQuery = z.strictObject({
  desktop: z.string().refine(isLoopbackRedirect, 'expected http://127.0.0.1:<port>/callback').optional(),
  challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected an S256 PKCE challenge (43 base64url characters)').optional(),
  // The desktop app's own OAuth state, handed back on its loopback address (apps from before it send none).
  state: z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, 'expected the desktop app\'s state (22 to 128 base64url characters)').optional(),
})
  .refine((query) => (query.desktop === undefined) === (query.challenge === undefined), { message: 'desktop and challenge go together' })
  .refine((query) => query.state === undefined || query.desktop !== undefined, { message: 'state goes with desktop' });
const handoffBody = z.strictObject({ code: z.string().min(16).max(128), verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'expected a PKCE code verifier') });

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

function page(reply: FastifyReply, status: number, title: string, message: string) {
  return reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(signInPage(title, message));
}

/** Without an `oidc:` section the console still asks, and hears there is no single sign-on. */
export const oidcOffRoutes: FastifyPluginAsync = async (app) => {
  app.get('/auth/oidc/info', { schema: HIDDEN }, async () => ({ enabled: false }));
};

/** Single sign-on, unauthenticated by nature: `/auth/oidc/login` sends the browser to the provider, the callback brings it back. */
export const oidcRoutes: FastifyPluginAsync<{ signIn: OidcSignIn }> = async (app, { signIn }) => {
  // checksDesktopState: the login takes the desktop app's `state` and hands it back; the app will not start a sign-in at a hub without it.
  app.get('/auth/oidc/info', { schema: HIDDEN }, async () => ({ enabled: true, name: signIn.settings.name, checksDesktopState: true }));

  app.get('/auth/oidc/login', { schema: HIDDEN }, async (request, reply) => {
    const query = loginQuery.safeParse(request.query);
    if (!query.success) return page(reply, 400, 'This sign-in link is not valid', 'The desktop app’s sign-in address is malformed. Start again from the app.');
    const desktop = query.data.desktop && query.data.challenge ? { redirect: query.data.desktop, challenge: query.data.challenge, state: query.data.state } : undefined;
    let started: { url: string; state: string };
    try {
      started = await signIn.start(desktop);
    } catch (error) {
      if (error instanceof GreenlightError) return page(reply, 502, 'The identity provider is not available', error.message);
      throw error;
    }
    const secure = signIn.callbackBase().startsWith('https:') ? '; Secure' : '';
    return reply
      .header('set-cookie', `${STATE_COOKIE}=${encodeURIComponent(started.state)}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600${secure}`)
      .header('cache-control', 'no-store')
      .redirect(started.url, 302);
  });

  app.get('/auth/oidc/callback', { schema: HIDDEN }, async (request, reply) => {
    const url = new URL(request.url, signIn.callbackBase());
    reply.header('set-cookie', `${STATE_COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0`);
    try {
      const finished = await signIn.finish(url, cookieValue(request.headers.cookie, STATE_COOKIE));
      // The token travels in the fragment, which the browser never sends on; the console takes it and clears the address bar.
      const target = finished.kind === 'console' ? `/#token=${encodeURIComponent(finished.token)}` : finished.redirect;
      return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(target, 303);
    } catch (error) {
      if (error instanceof SignInRefused) return page(reply, error.status, error.title, error.message);
      if (error instanceof GreenlightError && error.code === 'UNAVAILABLE') return page(reply, 502, 'The identity provider is not available', error.message);
      throw error;
    }
  });

  app.post('/auth/oidc/desktop/token', { schema: HIDDEN }, async (request) => {
    const { code, verifier } = parseOrThrow(handoffBody, request.body, 'sign-in code');
    return signIn.redeemHandoff(code, verifier);
  });
};
