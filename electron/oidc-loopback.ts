import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { GreenlightError } from '../protocol/errors.js';
import { unreachable } from '../protocol/hub-http-error.js';
import { whenCancelled } from './cancellation.js';
import { browserSignInCancelled, tradeCode, type DesktopSession } from './code-trade.js';
import type { HubErrands } from './hub-errands.js';

export { browserSignInCancelled, desktopSessionSchema, type DesktopSession } from './code-trade.js';

export interface LoopbackSignInOptions {
  hubUrl: string;
  /** Opens the system browser (Electron's `shell.openExternal`); never an embedded web view. */
  openExternal: (url: string) => Promise<void>;
  /** How long to wait for the person to finish at the identity provider. */
  timeoutMs?: number;
  /**
   * Ends the sign-in with `CANCELLED`: the listener closes at once, and a code not yet traded never is.
   * A trade under way is still answered, and the session it brings revoked, in `errands` (see `tradeCode`).
   */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** How long a cancelled trade still waits for the hub's answer; `ANSWER_AFTER_CANCEL_MS` unless given. */
  answerAfterCancelMs?: number;
  errands?: HubErrands;
}

const DONE_PAGE = '<!doctype html><meta charset="utf-8"><title>Greenlight</title><p>You are signed in to Greenlight. You can close this tab and go back to the app.</p>';
const REFUSED_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Greenlight</title><p>This sign-in was not started by the Greenlight app on this computer, so it was refused and nothing was signed in. If you are signing in from the app, finish in the tab it opened, or start sign-in again from the app.</p>';
const INCOMPLETE_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Greenlight</title><p>The hub sent the browser back without a sign-in code, so nothing was signed in. Start sign-in again from the app.</p>';
const NO_CODE_MESSAGE = 'The hub sent the browser back without a sign-in code. Start sign-in again.';

/**
 * Why the wait ended without a sign-in, saying so when redirects without this sign-in's state were
 * refused meanwhile. Each sign-in listens on a new random port, so an earlier attempt's redirect
 * almost never lands here: something else on this computer sent it.
 */
function timeoutMessage(timeoutMs: number, refusedRedirects: number): string {
  const waited = `Sign-in was not finished in the browser within ${Math.round(timeoutMs / 1000)} s.`;
  if (refusedRedirects === 0) return `${waited} Try again.`;
  const came = refusedRedirects === 1 ? 'a sign-in this app did not start came to it' : `${refusedRedirects} sign-ins this app did not start came to it`;
  const refused = refusedRedirects === 1 ? 'was refused' : 'were refused';
  return `${waited} Meanwhile ${came} (likely from another page or program on this computer) and ${refused}. Try again.`;
}

/**
 * What a hub with single sign-on answers at /auth/oidc/info. `checksDesktopState` is the promise that
 * its login takes this app's `state` and hands it back; a hub from before it refuses the login
 * address this app opens, so the browser would fail and the app would wait for nothing.
 */
const oidcInfoSchema = z.object({ enabled: z.literal(true), checksDesktopState: z.literal(true).optional() });

/** Whether the redirect carries the state this sign-in sent; compared in constant time. */
function isOurState(expected: string, received: string | null): boolean {
  if (received === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Single sign-on for the desktop app (RFC 8252): a one-shot listener on a random loopback port, the
 * system browser sent to the hub's sign-in with that address, a PKCE challenge and a random state,
 * and, when the browser comes back with a one-time code and that state, the code and the verifier
 * traded at the hub for a session. Only a redirect with that state ends the wait: anything else
 * reaching the port (a stray or forged redirect, another page, another process) is refused and its
 * code never sent anywhere, and the wait goes on, so nobody but the hub can end a sign-in the
 * person is still finishing at the identity provider, except the app itself through `signal`.
 */
export async function signInWithBrowser(options: LoopbackSignInOptions): Promise<DesktopSession> {
  const { cancelled, stopListening } = whenCancelled(options.signal, browserSignInCancelled);
  try {
    return await signInUnlessCancelled(options, cancelled);
  } finally {
    stopListening();
  }
}

async function signInUnlessCancelled(options: LoopbackSignInOptions, cancelled: Promise<never>): Promise<DesktopSession> {
  const orCancelled = <T>(step: Promise<T>) => Promise.race([step, cancelled]);
  const hub = new URL(options.hubUrl).origin;
  const fetchImpl = options.fetch ?? fetch;
  // Before a browser opens on a page that cannot work: a hub without single sign-on says so.
  const info = await orCancelled(
    fetchImpl(new URL('/auth/oidc/info', hub), { signal: options.signal }).then(
      async (response) => (response.ok ? (response.json() as Promise<unknown>) : null),
      (error: unknown) => {
        throw unreachable(hub, error);
      },
    ),
  );
  const offered = oidcInfoSchema.safeParse(info);
  if (!offered.success) throw new GreenlightError('NO_SINGLE_SIGN_ON', `The hub at ${hub} has no single sign-on set up; sign in with a token.`);
  if (!offered.data.checksDesktopState) {
    throw new GreenlightError(
      'HUB_TOO_OLD',
      `The hub at ${hub} is older than this app, and single sign-on from this app needs the hub updated to this app's version. Ask an admin to update it; until then, sign in with a token.`,
    );
  }
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(32).toString('base64url');
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } = { resolve: () => undefined, reject: () => undefined };
  const arrived = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  // A sign-in that ends before the race below starts waiting must not count as unhandled.
  arrived.catch(() => undefined);
  // Only counted, never kept: a flood of them costs no memory, and the timeout can say they came.
  let refusedRedirects = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== '/callback') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    if (!isOurState(state, url.searchParams.get('state'))) {
      refusedRedirects += 1;
      response.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(REFUSED_PAGE);
      return;
    }
    const code = url.searchParams.get('code');
    if (!code) {
      response.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(INCOMPLETE_PAGE);
      settle.reject(new GreenlightError('SIGN_IN_INCOMPLETE', NO_CODE_MESSAGE));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(DONE_PAGE);
    settle.resolve(code);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const redirect = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const login = new URL('/auth/oidc/login', hub);
    login.searchParams.set('desktop', redirect);
    login.searchParams.set('challenge', challenge);
    login.searchParams.set('state', state);
    // Cancelled while the listener started: no browser opens.
    if (options.signal?.aborted) throw browserSignInCancelled();
    await orCancelled(options.openExternal(login.href));
    const timeoutMs = options.timeoutMs ?? 5 * 60_000;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GreenlightError('TIMEOUT', timeoutMessage(timeoutMs, refusedRedirects))), timeoutMs);
    });
    const code = await Promise.race([arrived, timedOut, cancelled]);
    return await tradeCode({ hub, code, verifier, fetch: fetchImpl, signal: options.signal, answerAfterCancelMs: options.answerAfterCancelMs, errands: options.errands });
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}
