import { afterAll, beforeAll } from 'vitest';
import type { DesktopEvent } from '../../protocol/desktop-api.js';
import { HubClient } from '../../protocol/hub-client.js';
import { signInThroughBrowser } from '../browser-sign-in-attempt.js';
import { HubConnection, type HubConnectionDeps } from '../hub-connection.js';
import type { Keychain } from '../keychain.js';
import { memorySettings } from './memory.js';

/** What a desktop main needs of a real hub with single sign-on: its address, a stand-in for the system browser, and its end. */
export interface SingleSignOnAt {
  hub: { url: string };
  browser(): (url: string) => Promise<void>;
  dispose(): Promise<void>;
}

export interface DesktopMainOptions {
  /** The hub the settings remember at launch; none unless given. */
  hubUrl?: string;
  settings?: HubConnectionDeps['settings'];
  /** Main's HTTP to the hub (ending sessions); the global fetch unless given. */
  fetch?: typeof fetch;
  /** The HTTP of a sign-in through the browser (the code trade, revoking what it does not keep); the global fetch unless given. */
  browserSignInFetch?: typeof fetch;
}

/**
 * For a test file against a real hub with single sign-on, which `start` starts (before the file's tests:
 * this module may not import the hub's helpers). `desktopMain` builds main's hub connection as the app
 * does, a real HubClient over a real socket, with the keychain given; after the file's tests every one
 * made is closed, then the hub ended.
 */
export function desktopMainsAgainst<S extends SingleSignOnAt>(start: () => Promise<S>) {
  let started: S | null = null;
  const connections: HubConnection[] = [];
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    for (const connection of connections) connection.close();
    await started?.dispose();
  });

  const sso = (): S => {
    if (!started) throw new Error('the hub starts before the tests (beforeAll)');
    return started;
  };

  function desktopMain<K extends Keychain>(keychain: K, options: DesktopMainOptions = {}) {
    const connection = new HubConnection({
      createClient: (clientOptions) => new HubClient({ ...clientOptions, forceNew: true }),
      keychain,
      settings: options.settings ?? memorySettings({ hubUrl: options.hubUrl ?? null }).settings,
      fetch: options.fetch,
    });
    connections.push(connection);
    const events: DesktopEvent[] = [];
    connection.subscribe((event) => events.push(event));
    const signInThroughTheBrowser = () =>
      signInThroughBrowser({ connection, openExternal: sso().browser(), fetch: options.browserSignInFetch, errands: connection.errands }, sso().hub.url, new AbortController().signal);
    return { connection, keychain, events, signInThroughTheBrowser };
  }

  return { sso, desktopMain };
}
