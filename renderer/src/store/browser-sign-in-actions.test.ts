import { beforeEach, describe, expect, it } from 'vitest';
import { GreenlightError } from '../../../protocol/errors.js';
import type { SyncResult } from '../../../protocol/events.js';
import type { Bridge, BridgeEvent } from '../bridge/bridge.js';
import { cancelSignInWithBrowser, signIn, signInWithBrowser, startApp } from './actions.js';
import { initialState, useStore } from './store.js';

/**
 * A signed-out desktop host whose browser sign-in waits until ended, and which, as the main process
 * does, ends it as cancelled (replying at once) when Cancel comes or a token sign-in starts; the token
 * sign-in itself answers when the test says. Events from main come when the test sends them.
 */
function desktopHost() {
  let endWait: (error: GreenlightError) => void = () => undefined;
  let answerToken: (error: GreenlightError) => void = () => undefined;
  let listener: (event: BridgeEvent) => void = () => undefined;
  const cancelled = () => new GreenlightError('CANCELLED', 'Sign-in through the browser was cancelled.');
  const used: Partial<Bridge> = {
    host: 'desktop',
    resume: async () => ({ signedIn: false, signOutNote: null }),
    subscribe: (listen) => {
      listener = listen;
      return () => undefined;
    },
    signInWithBrowser: () => new Promise<SyncResult>((_, reject) => (endWait = reject)),
    cancelSignInWithBrowser: async () => endWait(cancelled()),
    signIn: () => {
      endWait(cancelled());
      return new Promise<SyncResult>((_, reject) => (answerToken = reject));
    },
  };
  const notUsed = () => Promise.reject(new Error('not used in this test'));
  const host = new Proxy(used, { get: (target, key) => (key in target ? target[key as keyof Bridge] : notUsed) }) as Bridge;
  return { host, endWait: (error: GreenlightError) => endWait(error), answerToken: (error: GreenlightError) => answerToken(error), emit: (event: BridgeEvent) => listener(event) };
}

beforeEach(() => useStore.setState(initialState));

describe('desktop sign-in through the browser, cancelled or replaced', () => {
  it('Cancel ends the wait and returns to the form with no error to show', async () => {
    const { host } = desktopHost();
    await startApp(host);
    const waiting = signInWithBrowser('https://hub.example');
    expect(useStore.getState().phase).toBe('waiting-for-browser');
    await cancelSignInWithBrowser();
    await waiting;
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: null });
  });

  it('a wait that ends for a real reason says why', async () => {
    const host = desktopHost();
    await startApp(host.host);
    const waiting = signInWithBrowser('https://hub.example');
    host.endWait(new GreenlightError('TIMEOUT', 'Sign-in was not finished in the browser within 300 s. Try again.'));
    await waiting;
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: { code: 'TIMEOUT' } });
  });

  it('a token sign-in started while waiting stays under way when the wait it replaced ends, and its own answer shows', async () => {
    const host = desktopHost();
    await startApp(host.host);
    const waiting = signInWithBrowser('https://hub.example');
    const token = signIn('https://hub.example', 'glt_x');
    await waiting;
    expect(useStore.getState()).toMatchObject({ phase: 'signing-in', signInError: null });
    host.answerToken(new GreenlightError('UNAUTHENTICATED', 'This token is not valid (unknown token). Ask an admin for a new one.'));
    await token;
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: { code: 'UNAUTHENTICATED' } });
  });

  it('a token sign-in that replaced a browser sign-in main was connecting stays under way when main reports that connection dropped', async () => {
    const host = desktopHost();
    await startApp(host.host);
    const waiting = signInWithBrowser('https://hub.example');
    // Main had the browser's session and was connecting with it; the token sign-in makes it drop that first.
    host.emit({ type: 'state', state: 'connecting', error: null });
    const token = signIn('https://hub.example', 'glt_x');
    host.emit({ type: 'state', state: 'signed-out', error: null });
    await waiting;
    expect(useStore.getState()).toMatchObject({ phase: 'signing-in', signInError: null });
    host.answerToken(new GreenlightError('UNAUTHENTICATED', 'This token is not valid (unknown token). Ask an admin for a new one.'));
    await token;
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: { code: 'UNAUTHENTICATED' } });
  });
});
