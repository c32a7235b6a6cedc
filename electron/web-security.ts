import type { CallbackResponse, OnBeforeRequestListenerDetails, Session, WebContents, WebRequestFilter } from 'electron';
import { isAppUrl } from './app-origin.js';
import { openExternalUrl } from './open-external.js';

/** The WebContents events we guard; restated because Electron's `on` overloads return the class. */
export interface GuardedContents extends Pick<WebContents, 'setWindowOpenHandler'> {
  on(event: 'will-navigate' | 'will-redirect', listener: (details: { url: string; preventDefault(): void }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
}

export type BeforeRequestListener = (details: OnBeforeRequestListenerDetails, callback: (response: CallbackResponse) => void) => void;

export type GuardedSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  // Restated: the overloaded original cannot be Pick'ed into something a test double can implement.
  webRequest: { onBeforeRequest(filter: WebRequestFilter, listener: BeforeRequestListener): void };
};

/** Copying a grant token to the clipboard is the one thing the page may ask for. */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/**
 * No new windows, no navigation away from the app, no webviews. A link to an http(s) page
 * opens in the user's browser instead.
 */
export function guardWebContents(contents: GuardedContents, openExternal: (url: string) => Promise<void>): void {
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalUrl(url, openExternal);
    return { action: 'deny' };
  });
  const stayInApp = (details: { url: string; preventDefault(): void }) => {
    if (isAppUrl(details.url)) return;
    details.preventDefault();
    void openExternalUrl(details.url, openExternal);
  };
  contents.on('will-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Denies every permission but the allowed ones, and only to the app's own page; cancels any network request. */
export function guardSession(session: GuardedSession): void {
  session.setPermissionRequestHandler((contents, permission, callback) => {
    callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(contents.getURL()));
  });
  session.setPermissionCheckHandler((_contents, permission, origin) => ALLOWED_PERMISSIONS.has(permission) && isAppUrl(origin));
  // No remote content: the page reaches the hub only through main.
  session.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'] }, (_details, callback) =>
    callback({ cancel: true }),
  );
}
