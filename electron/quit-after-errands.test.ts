import { createServer, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { HubConnection } from './hub-connection.js';
import { HubErrands } from './hub-errands.js';
import { quitAfterErrands } from './quit-after-errands.js';
import { FakeHubClient } from './test/fake-hub-client.js';
import { memoryKeychain, memorySettings } from './test/memory.js';

/** A before-quit event as Electron hands it (fake: Electron can't run here). */
const quitEvent = () => {
  const event = { prevented: false, preventDefault: () => void (event.prevented = true) };
  return event;
};

/** A promise this test settles itself. */
function held() {
  let release = () => {};
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/** A hub address that takes connections and never answers on them (a real socket on loopback). */
async function hubThatNeverAnswers(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('quitting while a session is still being ended at the hub (fake Electron quit event)', () => {
  it('quits at once when nothing is being ended', () => {
    const quits: string[] = [];
    const onBeforeQuit = quitAfterErrands({ errands: new HubErrands(), quit: () => quits.push('quit') });
    const event = quitEvent();
    expect(onBeforeQuit(event)).toBe(false);
    expect(event.prevented).toBe(false);
    expect(quits).toEqual([]);
  });

  it('puts the quit off until the session is ended, then quits, and lets that quit through', async () => {
    const errands = new HubErrands();
    const revoke = held();
    errands.start('ending a session signed out of', () => revoke.promise);
    const quit = held();
    const onBeforeQuit = quitAfterErrands({ errands, quit: quit.release, wait: () => new Promise(() => {}) });
    const first = quitEvent();
    expect(onBeforeQuit(first)).toBe(true);
    expect(first.prevented).toBe(true);
    revoke.release();
    await quit.promise;
    const second = quitEvent();
    expect(onBeforeQuit(second)).toBe(false);
    expect(second.prevented).toBe(false);
  });

  it('quits after its wait when the hub never answers', async () => {
    const errands = new HubErrands();
    errands.start('ending a session signed out of', () => new Promise(() => {}));
    const waited: number[] = [];
    const bound = held();
    const quit = held();
    const onBeforeQuit = quitAfterErrands({ errands, quit: quit.release, wait: (ms) => (waited.push(ms), bound.promise) });
    expect(onBeforeQuit(quitEvent())).toBe(true);
    bound.release();
    await quit.promise;
    expect(waited).toEqual([3_000]);
    expect(errands.busy).toBe(true);
  });

  it('right after signing out of a single sign-on session at a hub that never answers: its revoke ends, given up and logged, before the quit stops waiting, so no revoke is cut off unseen (fake hub client; the revoke over a real socket)', async () => {
    const hub = await hubThatNeverAnswers();
    const keychain = memoryKeychain();
    keychain.entries.set(hub.url, { token: 'glt_sso_session', kind: 'sso' });
    const connection = new HubConnection({ createClient: (options) => new FakeHubClient(options, 'silent'), keychain, settings: memorySettings({ hubUrl: hub.url }).settings });
    await connection.restore();
    const happened: string[] = [];
    const warned = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => void happened.push(String(line)));
    const quit = held();
    try {
      await connection.signOut();
      const onBeforeQuit = quitAfterErrands({ errands: connection.errands, quit: () => (happened.push('quit'), quit.release()) });
      expect(onBeforeQuit(quitEvent())).toBe(true);
      await quit.promise;
    } finally {
      warned.mockRestore();
      await hub.close();
    }
    expect(happened).toEqual([expect.stringContaining(`could not end at ${hub.url} the sign-in session signed out of; it lapses at its expiry`), 'quit']);
    expect(happened[0]).toContain('no answer in time');
    expect(connection.errands.busy).toBe(false);
  });
});
